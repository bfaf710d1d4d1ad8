#!/usr/bin/env bash
# Keeps a persistent cargo target folder from filling the disk: drops its
# incremental state, and when less than MIN_FREE_GB (default 20) is free, also
# the test and binary executables not rebuilt in the last two hours (cargo relinks
# any it needs again; libraries are kept, so nothing is recompiled).
#
# usage: trim-target.sh <target dir>
set -euo pipefail
target=${1:?usage: trim-target.sh <target dir>}
min_free_gb=${MIN_FREE_GB:-20}
[ -d "$target" ] || exit 0
rm -rf "$target"/debug/incremental "$target"/release/incremental
free_gb=$(df -Pk "$target" | awk 'NR==2 {print int($4 / 1048576)}')
if [ "$free_gb" -lt "$min_free_gb" ]; then
  echo "trim-target: ${free_gb} GB free in $target; removing executables older than two hours"
  find "$target"/debug/deps "$target"/release/deps -maxdepth 1 -type f -perm -u+x \
    ! -name '*.so' ! -name '*.rlib' ! -name '*.rmeta' ! -name '*.d' -mmin +120 -delete 2>/dev/null || true
fi

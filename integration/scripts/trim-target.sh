#!/usr/bin/env bash
# Keeps a persistent cargo target folder from filling the disk: drops its
# incremental state, and when less than MIN_FREE_GB (default 20) is free, also
# the test and binary executables not rebuilt in the last two hours (cargo relinks
# any it needs again; libraries are kept, so nothing is recompiled). When even that
# leaves less than WIPE_BELOW_GB (default 8) free, the folder is emptied: a cold
# build fits CI's time budget, a full disk does not.
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
free_gb=$(df -Pk "$target" | awk 'NR==2 {print int($4 / 1048576)}')
if [ "$free_gb" -lt "${WIPE_BELOW_GB:-8}" ]; then
  echo "trim-target: still only ${free_gb} GB free; emptying $target (the next build is a cold one)"
  find "$target" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
fi

#!/usr/bin/env bash
# Every standard slim variant builds on its own, reports only its trigger, and
# passes the real-process tests of that trigger run against its own binaries
# (SPIN_SHIM_BIN_DIR). The full shim runs every test in `make test`.
#
# usage: variant-tests.sh [variant ...]   (default: http redis sqs command cron mqtt)
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${CARGO_TARGET_DIR:?set CARGO_TARGET_DIR}"

# The integration test files that exercise each trigger.
declare -A TESTS=(
  [http]="cli containerd"
  [redis]="redis"
  [sqs]="sqs"
  [command]="command containerd_command"
  [cron]="cron"
  [mqtt]="mqtt"
)
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(http redis sqs command cron mqtt)

# Building a variant replaces the full shim in $CARGO_TARGET_DIR/debug; put it back.
cargo build -q -p containerd-shim-spin --bins
trap 'cargo build -q -p containerd-shim-spin --bins' EXIT
# Components precompiled by the full shim must load in every variant: same key.
full_key=$("$CARGO_TARGET_DIR/debug/spin-shim" info --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["precompile_key"])')

for v in "${variants[@]}"; do
  [ -n "${TESTS[$v]:-}" ] || { echo "unknown variant: $v" >&2; exit 2; }
  echo "== variant $v =="
  bash integration/scripts/build-variant.sh "$v"
  dir=$CARGO_TARGET_DIR/variants/$v
  ls -l "$dir/containerd-shim-spin-$v-v2" | awk '{printf "containerd-shim-spin-%s-v2: %.1f MiB (debug)\n", "'"$v"'", $5/1048576}'
  "$dir/spin-shim" info --json | python3 -c '
import json, sys
info = json.load(sys.stdin)
assert info["triggers"] == [sys.argv[1]], f"variant {sys.argv[1]} reports triggers {info['triggers']}"
assert info["precompile_key"] == sys.argv[2], f"variant {sys.argv[1]}: precompile key {info['precompile_key']}, full shim {sys.argv[2]}"
' "$v" "$full_key"
  "$dir/containerd-shim-spin-$v-v2" --version | grep -q "triggers: $v;"
  tests=()
  for t in ${TESTS[$v]}; do tests+=(--test "$t"); done
  SPIN_SHIM_BIN_DIR=$dir cargo test -p integration "${tests[@]}"
done

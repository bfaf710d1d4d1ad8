#!/usr/bin/env bash
# Runs every fuzz target of integration/fuzz with libFuzzer (cargo fuzz) for a time
# budget each, and prints each target's executions, coverage and crashes.
#
# Usage: bash integration/scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# FUZZ_PARALLEL=1 runs the targets at the same time (each still for its budget,
# sharing the cores; the executions in the summary say how much each got).
#
# New inputs go to a scratch corpus (/var/tmp/css-fuzz/<target>); the committed
# corpus (integration/fuzz/corpus/<target>, replayed by `cargo test`) is read, not
# written: add an input there by hand when it is worth keeping, and turn every
# crash (integration/fuzz/artifacts/<target>/) into a unit test before fixing it.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_TARGET=${1:-600}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  mapfile -t TARGETS < <(ls integration/fuzz/fuzz_targets | sed 's/\.rs$//')
fi
command -v cargo-fuzz >/dev/null || { echo "fuzz: cargo-fuzz not found: run \`make setup-fuzz\` once" >&2; exit 1; }
SCRATCH=${CSS_FUZZ_DIR:-/var/tmp/css-fuzz}
# cargo fuzz passes nightly-only -Z flags; the stable toolchain accepts them with this.
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR=${CSS_FUZZ_TARGET_DIR:-/var/tmp/css-fuzz-target}
# The release profile's thin LTO costs minutes per target binary (each links
# wasmtime); fuzzing needs the optimisation, not the LTO. Symbols stay for reports.
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_STRIP=none
cargo fuzz build --fuzz-dir integration/fuzz --features libfuzzer --sanitizer none
run_one() {
  local t=$1
  mkdir -p "$SCRATCH/$t"
  echo "== $t for ${SECONDS_PER_TARGET}s (log: $SCRATCH/$t.log)"
  cargo fuzz run --fuzz-dir integration/fuzz --features libfuzzer --sanitizer none "$t" \
    "$SCRATCH/$t" "integration/fuzz/corpus/$t" -- -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
    >"$SCRATCH/$t.log" 2>&1
  echo $? >"$SCRATCH/$t.status"
}
for t in "${TARGETS[@]}"; do
  if [ -n "${FUZZ_PARALLEL:-}" ]; then run_one "$t" & else run_one "$t"; fi
done
wait
failed=0
summary=()
for t in "${TARGETS[@]}"; do
  log="$SCRATCH/$t.log"
  if [ "$(cat "$SCRATCH/$t.status")" = 0 ]; then status=ok; else status=CRASH; failed=$((failed + 1)); fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
  summary+=("$t: $status, $execs executions, coverage $cov")
done
printf '%s\n' "${summary[@]}"
echo "$(( ${#TARGETS[@]} - failed )) passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Benchmark (not a test): requests/s and p99 latency of the same hello component
# through this project's HTTP trigger (`spin-shim up`), `wasmtime serve` 48.0.8, and a
# native hyper server, measured in one run with wrk; prints the ratios. The same hello
# logic as a WASI 0.3 component (Rust spin-sdk 7) is measured with instance reuse on
# (the default) and off (--max-instance-reuse-count 1), against the 0.2 one and against
# `wasmtime serve -Sp3` on the same 0.3 component (wasmtime's own reuse), and the JS
# (j2w) and Python hello apps through this shim (wrk -c16), and a component that calls
# a native upstream on every request, with outbound connections kept (the default)
# and with `connection_pooling = false`. Then
# instructions per request of the same servers under callgrind
# (integration/scripts/instructions.sh). Then the Pod
# benchmark (integration/src/bin/pod-bench/): start time and memory of the app
# through the shim under a private containerd against a runc container.
# Env: BENCH_DURATION (default 10s), BENCH_CONNECTIONS (32), BENCH_THREADS (2),
# BENCH_NO_BUILD=1 to use release binaries already in $CARGO_TARGET_DIR/release,
# BENCH_BASELINE=<path of another spin-shim build> to measure it in the same run
# (e.g. the build of the commit before a change) and print this / baseline.
set -euo pipefail
cd "$(dirname "$0")/../.."
source integration/scripts/bench-env.sh
duration=${BENCH_DURATION:-10s}
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
wasm=$guests/rust-hello/app.wasm
wasm03=$guests/rust-sdk7-hello/app.wasm

[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release -p containerd-shim-spin --bins -p integration --bin native-hello --bin pod-bench
[ -x "$tools/bin/wasmtime" ] || { echo "bench: $tools/bin/wasmtime not found: run \`make setup-bench\` once" >&2; exit 1; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_up() { # port[path]
  for _ in $(seq 300); do curl -fs "http://127.0.0.1:$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "port $1 never answered" >&2; exit 1; }

"$target/release/spin-shim" up -q -f "$wasm" --listen 127.0.0.1:3100 >/dev/null 2>&1 & pids+=($!)
"$tools/bin/wasmtime" serve -Scli --addr 127.0.0.1:3101 "$wasm" >/dev/null 2>&1 & pids+=($!)
"$target/release/native-hello" 127.0.0.1:3102 >/dev/null 2>&1 & pids+=($!)
"$target/release/spin-shim" up -q -f "$wasm03" --listen 127.0.0.1:3104 >/dev/null 2>&1 & pids+=($!)
"$target/release/spin-shim" up -q -f "$wasm03" --listen 127.0.0.1:3105 --max-instance-reuse-count 1 >/dev/null 2>&1 & pids+=($!)
"$tools/bin/wasmtime" serve -Scli -Sp3 -Wcomponent-model-async --addr 127.0.0.1:3106 "$wasm03" >/dev/null 2>&1 & pids+=($!)
"$target/release/spin-shim" up -q -f "$guests/js-hello/app.wasm" --listen 127.0.0.1:3107 >/dev/null 2>&1 & pids+=($!)
"$target/release/spin-shim" up -q -f "$guests/python-hello/app.wasm" --listen 127.0.0.1:3108 >/dev/null 2>&1 & pids+=($!)
# Outbound HTTP per request: rust-outbound GETs the native server on 3110.
"$target/release/native-hello" 127.0.0.1:3110 >/dev/null 2>&1 & pids+=($!)
unpooled=$(mktemp); printf '[outbound_http]\nconnection_pooling = false\n' >"$unpooled"
"$target/release/spin-shim" up -q -f "$guests/rust-outbound" --listen 127.0.0.1:3111 >/dev/null 2>&1 & pids+=($!)
"$target/release/spin-shim" up -q -f "$guests/rust-outbound" --listen 127.0.0.1:3112 --runtime-config-file "$unpooled" >/dev/null 2>&1 & pids+=($!)
call="/?url=http://127.0.0.1:3110/"
ports=(3100 3101 3102 3104 3105 3106 3107 3108 3110 "3111$call" "3112$call")
if [ -n "${BENCH_BASELINE:-}" ]; then
  "$BENCH_BASELINE" up -q -f "$wasm" --listen 127.0.0.1:3103 >/dev/null 2>&1 & pids+=($!)
  ports+=(3103)
fi
for p in "${ports[@]}"; do wait_up "$p"; done

measure() { # name port [path] -> "rps p99_ms"
  local url="http://127.0.0.1:$2${3:-/}"
  wrk -t"$threads" -c"$conns" -d3s "$url" >/dev/null  # warm-up
  local out; out=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency "$url")
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$out")
  printf '%-22s %10.0f req/s   p99 %8.2f ms\n' "$1" "$rps" "$p99" >&2
  echo "$rps $p99"
}

read -r shim_rps shim_p99 < <(measure "spin-shim (this)" 3100)
read -r wt_rps wt_p99 < <(measure "wasmtime serve" 3101)
read -r nat_rps nat_p99 < <(measure "native hyper" 3102)
read -r p3_rps p3_p99 < <(measure "0.3 reuse on (this)" 3104)
read -r p3off_rps p3off_p99 < <(measure "0.3 reuse off (this)" 3105)
read -r wt3_rps wt3_p99 < <(measure "wasmtime serve -Sp3" 3106)
# The interpreted guests, at the concurrency of their earlier figures (README).
conns=16 measure "JS hello (j2w)" 3107 >/dev/null
conns=16 measure "Python hello" 3108 >/dev/null
read -r kept_rps kept_p99 < <(measure "outbound, kept" 3111 "$call")
read -r fresh_rps fresh_p99 < <(measure "outbound, unpooled" 3112 "$call")
if [ -n "${BENCH_BASELINE:-}" ]; then
  read -r base_rps base_p99 < <(measure "spin-shim (baseline)" 3103)
  awk -v a="$shim_rps" -v b="$base_rps" -v pa="$shim_p99" -v pb="$base_p99" 'BEGIN {
    printf "ratio this / baseline: requests/s = %.3fx   p99 = %.3fx\n", a/b, pa/pb
  }'
fi

awk -v a="$shim_rps" -v b="$wt_rps" -v c="$nat_rps" -v pa="$shim_p99" -v pb="$wt_p99" 'BEGIN {
  printf "ratio requests/s  this / wasmtime serve = %.2fx   this / native = %.3fx\n", a/b, a/c
  printf "ratio p99         this / wasmtime serve = %.2fx\n", pa/pb
}'
awk -v on="$p3_rps" -v off="$p3off_rps" -v p2="$shim_rps" -v wt="$wt_rps" -v wt3="$wt3_rps" -v pon="$p3_p99" -v p2p="$shim_p99" -v pwt3="$wt3_p99" 'BEGIN {
  printf "ratio requests/s  0.3 reuse on / 0.2 = %.2fx (target >= 2)   0.3 reuse off / 0.2 = %.2fx   0.3 reuse on / wasmtime serve (0.2) = %.2fx\n", on/p2, off/p2, on/wt
  printf "ratio requests/s  0.3 reuse on / wasmtime serve -Sp3 (same 0.3 component, its own reuse) = %.2fx   wasmtime serve -Sp3 / 0.2 (this) = %.2fx\n", on/wt3, wt3/p2
  printf "ratio p99         0.3 reuse on / 0.2 = %.2fx   0.3 reuse on / wasmtime serve -Sp3 = %.2fx\n", pon/p2p, pon/pwt3
}'

awk -v a="$kept_rps" -v b="$fresh_rps" -v pa="$kept_p99" -v pb="$fresh_p99" 'BEGIN {
  printf "ratio outbound    kept connections / one per request: requests/s = %.2fx   p99 = %.2fx\n", a/b, pa/pb
}'

cleanup
rm -f "$unpooled"
pids=()
echo "== Instructions per request (callgrind), against wasmtime serve =="
bash integration/scripts/instructions.sh

echo "== Pod: start and memory through containerd, against a runc container =="
# containerd 1.7 (what `make setup` unpacks) runs the Spin OCI artifact rows too.
c17=${CONTAINERD17:-/var/tmp/css-containerd-1.7/usr/bin/containerd}
if [ -z "${CONTAINERD_BIN:-}" ] && [ -x "$c17" ]; then export CONTAINERD_BIN=$c17; fi
SPIN_SHIM_BIN_DIR="$target/release" "$target/release/pod-bench"

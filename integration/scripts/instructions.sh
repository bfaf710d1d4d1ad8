#!/usr/bin/env bash
# Instructions per request (valgrind's callgrind), a figure machine noise cannot move:
# the same components as bench.sh through this project's HTTP trigger and through
# `wasmtime serve`, each loaded with 500 keep-alive requests after 500 warm-up ones,
# counting only the server process's user-space instructions while they run (the
# kernel's share, the network stack and page faults, is not counted). Prints each
# count, the ratios, and this server's top costs by crate for the 0.3 component.
# Called by bench.sh; needs valgrind (`make setup-bench`). Env as bench.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
source integration/scripts/bench-env.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
command -v valgrind >/dev/null || { echo "instructions: valgrind not found: run \`make setup-bench\` once" >&2; exit 1; }
requests=500

# count NAME PORT CMD... -> instructions per request of CMD serving on PORT
count() {
  local name=$1 port=$2; shift 2
  local urls=() i
  # One `-o` per URL: curl pairs them, and reuses one connection for all.
  for ((i = 0; i < requests; i++)); do urls+=(-o /dev/null "http://127.0.0.1:$port/"); done
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/$name.%p" "$@" >"$out/$name.log" 2>&1 &
  local pid=$!
  for ((i = 0; i < 600; i++)); do curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.5; done
  curl -s "${urls[@]}" >/dev/null
  callgrind_control -i on "$pid" >/dev/null 2>&1
  local answered
  answered=$(curl -s -w '%{http_code}\n' "${urls[@]}" | grep -c '^200$' || true)
  callgrind_control -i off "$pid" >/dev/null 2>&1
  callgrind_control -d "$pid" >/dev/null 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null || true
  [ "$answered" = "$requests" ] || { echo "instructions: $name answered $answered of $requests" >&2; exit 1; }
  local total
  total=$(callgrind_annotate "$out/$name.$pid.1" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  echo $((total / requests))
  cp "$out/$name.$pid.1" "$out/$name.profile"
}

# One thread and a small instance pool: valgrind runs threads one at a time and
# reserves address space for every pooled slot (`wasmtime serve` reads neither).
export SPIN_HTTP_THREADS=1 SPIN_WASMTIME_INSTANCE_COUNT=8
ours=("$target/release/spin-shim" up -q)
p2=$(count p2 3110 "${ours[@]}" -f "$guests/rust-hello/app.wasm" --listen 127.0.0.1:3110)
wt2=$(count wt2 3111 "$tools/bin/wasmtime" serve -Scli --addr 127.0.0.1:3111 "$guests/rust-hello/app.wasm")
p3=$(count p3 3112 "${ours[@]}" -f "$guests/rust-sdk7-hello/app.wasm" --listen 127.0.0.1:3112)
wt3=$(count wt3 3113 "$tools/bin/wasmtime" serve -Scli -Sp3 -Wcomponent-model-async --addr 127.0.0.1:3113 "$guests/rust-sdk7-hello/app.wasm")

printf '%-34s %9d instructions/request\n' "0.2 hello, this" "$p2" "0.2 hello, wasmtime serve" "$wt2" \
  "0.3 hello (reuse on), this" "$p3" "0.3 hello, wasmtime serve -Sp3" "$wt3"
awk -v a="$p2" -v b="$wt2" -v c="$p3" -v d="$wt3" 'BEGIN {
  printf "ratio instructions/request  0.2 this / wasmtime serve = %.2fx (target <= 0.25)   0.3 this / wasmtime serve -Sp3 = %.2fx   0.3 / 0.2 (this) = %.2fx\n", a/b, c/d, c/a
}'
# Where the 0.3 request's instructions go, by crate (code without a file is the guest's,
# compiled by wasmtime). The release build strips symbols, so naming this server's
# crates needs a build with CARGO_PROFILE_RELEASE_STRIP=none.
echo "top costs of a 0.3 request in this server (self instructions per request, by crate):"
callgrind_annotate --inclusive=no --threshold=100 "$out/p3.profile" | awk -v n="$requests" '
  /PROGRAM TOTALS/ || !/^ *[0-9,]+ \(/ { next }
  {
    ir = $1; gsub(",", "", ir)
    f = $0; sub(/^ *[0-9,]+ \([ 0-9.]+%\) +/, "", f)
    if (f ~ /\[\?\?\?\]$/) k = "guest (compiled wasm)"
    else if (f ~ /^\?\?\?:0x/) k = "this server (unnamed: stripped build)"
    else if (f ~ /libc\.so/) k = (f ~ /malloc|free|realloc/) ? "libc malloc/free" : "libc other"
    else if (f ~ /wasmtime_wasi_http/) k = "wasmtime-wasi-http"
    else if (f ~ /wasmtime/) k = "wasmtime runtime"
    else if (f ~ /spin_/) k = "this project"
    else if (f ~ /hyper/) k = "hyper"
    else if (f ~ /tokio/) k = "tokio"
    else if (f ~ /[^_a-z]http::|http_body/) k = "http crates"
    else k = "other"
    sum[k] += ir; total += ir
  }
  END { for (k in sum) printf "%10d  %5.1f%%  %s\n", sum[k] / n, 100 * sum[k] / total, k }' | sort -rn

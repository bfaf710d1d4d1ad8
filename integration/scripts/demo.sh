#!/usr/bin/env bash
# The main job, end to end: a private containerd with containerd-shim-spin-v2 on its
# PATH, the example app packed as an OCI image and imported, run with
# `ctr run --runtime io.containerd.spin.v2 ... /`, one HTTP request answered, and
# everything this script started stopped again.
set -euo pipefail

bin_dir=${SPIN_SHIM_BIN_DIR:-${CARGO_TARGET_DIR:-target}/debug}
app_dir=${1:-${SPIN_TEST_GUESTS:-/var/tmp/css-guests}/rust-hello}
port=${DEMO_PORT:-18080}
work=$(mktemp -d /var/tmp/css-demo-XXXXXX)
sock=$work/containerd.sock
ctr() { command ctr --address "$sock" "$@"; }

cleanup() {
  ctr task kill --signal SIGKILL demo >/dev/null 2>&1 || true
  [ -n "${run_pid:-}" ] && wait "$run_pid" 2>/dev/null || true
  [ -n "${containerd_pid:-}" ] && kill "$containerd_pid" 2>/dev/null && wait "$containerd_pid" 2>/dev/null || true
  grep -o " $work[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/config.toml" <<TOML
version = 2
root = "$work/root"
state = "$work/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$sock"
[ttrpc]
  address = ""
TOML

echo "demo: starting a private containerd in $work"
PATH="$(realpath "$bin_dir"):$PATH" containerd --config "$work/config.toml" >"$work/containerd.log" 2>&1 &
containerd_pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done

echo "demo: packaging $app_dir"
"$bin_dir/spin-shim" package -f "$app_dir" -r demo.local/spin-hello:latest -o "$work/image.tar"
ctr images import --base-name demo.local/spin-hello "$work/image.tar" >/dev/null

echo "demo: ctr run --runtime io.containerd.spin.v2 demo.local/spin-hello:latest demo /"
ctr run --rm --net-host --runtime io.containerd.spin.v2 \
  --env SPIN_HTTP_LISTEN_ADDR=127.0.0.1:$port demo.local/spin-hello:latest demo / >"$work/task.log" 2>&1 &
run_pid=$!
for _ in $(seq 200); do curl -fs "http://127.0.0.1:$port/.well-known/spin/health" >/dev/null 2>&1 && break; sleep 0.1; done

echo "demo: GET http://127.0.0.1:$port/"
curl -sS -i "http://127.0.0.1:$port/"
echo
echo "demo: stopping the task (SIGTERM)"
ctr task kill demo
wait "$run_pid" && echo "demo: task exited 0"
run_pid=

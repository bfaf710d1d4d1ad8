#!/usr/bin/env bash
# Builds one slim shim variant (debug) with only the trigger features given and
# keeps its binaries under $CARGO_TARGET_DIR/variants/<name>/: `spin-shim`,
# `containerd-shim-spin-v2` (so SPIN_SHIM_BIN_DIR can point the tests at it) and
# `containerd-shim-spin-<name>-v2` (the name a node installs it under).
#
# usage: build-variant.sh <name> [features, default: <name>]
set -euo pipefail
name=$1
features=${2:-$1}
: "${CARGO_TARGET_DIR:?set CARGO_TARGET_DIR}"
cargo build -p containerd-shim-spin --no-default-features --features "$features" --bins
dir=$CARGO_TARGET_DIR/variants/$name
mkdir -p "$dir"
rm -f "$dir"/*
cp "$CARGO_TARGET_DIR/debug/spin-shim" "$dir/spin-shim"
cp "$CARGO_TARGET_DIR/debug/containerd-shim-spin-v2" "$dir/containerd-shim-spin-v2"
ln "$dir/containerd-shim-spin-v2" "$dir/containerd-shim-spin-$name-v2"

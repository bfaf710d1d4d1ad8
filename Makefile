# Build, test, demo and benchmark containerd-shim-spin. Every target installs what it
# needs (integration/scripts/setup-host.sh); see README.md.

CARGO_TARGET_DIR ?= /var/tmp/css-target
export CARGO_TARGET_DIR
SPIN_TEST_GUESTS ?= /var/tmp/css-guests
export SPIN_TEST_GUESTS

.PHONY: setup guests build test demo bench fmt clippy

setup:
	bash integration/scripts/setup-host.sh

guests: setup
	bash integration/guests/build.sh $(SPIN_TEST_GUESTS)

build: setup
	cargo build -p containerd-shim-spin --bins

## The README's test command: unit tests, then real-process tests (CLI and containerd).
test: guests build
	cargo test --workspace --lib --bins --tests --no-fail-fast

## The README's main job: the example app served through the shim under containerd.
demo: guests build
	bash integration/scripts/demo.sh

## Requests/s and p99 against `wasmtime serve` and a native hyper server (release build).
bench: guests
	bash integration/scripts/bench.sh

fmt:
	cargo fmt --all

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

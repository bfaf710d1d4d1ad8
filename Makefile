# Build, test, demo and benchmark containerd-shim-spin; see README.md and
# integration/README.md. `make setup` installs what the other targets need on a
# Debian 12 host (integration/scripts/setup-host.sh); no other target installs
# anything: run `make setup test` on a fresh machine.

## Where cargo builds (outside the clone, so repeated runs stay incremental).
CARGO_TARGET_DIR ?= /var/tmp/css-target
## Where integration/guests/build.sh keeps the built guest apps.
SPIN_TEST_GUESTS ?= /var/tmp/css-guests
## The containerd 1.7 binary `make setup` unpacks (the tests run against 1.6 and 1.7).
CONTAINERD17 ?= /var/tmp/css-containerd-1.7/usr/bin/containerd
## The slim shim variants, one per trigger type.
VARIANTS ?= http redis sqs command cron mqtt
## libFuzzer time budget per fuzz target, in seconds.
FUZZ_SECONDS ?= 600
export CARGO_TARGET_DIR SPIN_TEST_GUESTS

.PHONY: setup setup-bench setup-fuzz guests build lint test variant-tests demo bench soak fuzz fmt clippy variants

## What building, the guests, the tests and the demo need: system packages, the
## pinned Rust toolchain and wasm targets, the guest SDK tools, moto, containerd 1.7.
setup:
	bash integration/scripts/setup-host.sh

## `setup` plus wasmtime-cli, the reference `make bench` measures against.
setup-bench:
	bash integration/scripts/setup-host.sh bench

## `setup` plus cargo-fuzz.
setup-fuzz:
	bash integration/scripts/setup-host.sh fuzz

guests:
	bash integration/guests/build.sh $(SPIN_TEST_GUESTS)

## Debug binaries for the tests: the HTTP-only variant (kept under
## $(CARGO_TARGET_DIR)/variants/http) and the full shim.
build:
	bash integration/scripts/build-variant.sh http
	cargo build -p containerd-shim-spin --bins

## The README's test command (after `make setup`): formatting, clippy with the
## workspace lints as errors, unit tests, then real-process tests (CLI, containerd,
## CRI), then every slim variant against its trigger's tests.
test: lint guests build
	cargo test --workspace --lib --bins --tests --no-fail-fast
	@echo "== the containerd and CRI tests again, against containerd 1.7 =="
	CONTAINERD_BIN=$(CONTAINERD17) cargo test -p integration --test containerd --test containerd_multi --test containerd_command --test containerd_isolation --test containerd_registry --test containerd_wasm_images --test containerd_compile_once --test containerd_app_settings --test cri
	@echo "== each slim variant against the tests of its trigger =="
	bash integration/scripts/variant-tests.sh $(VARIANTS)

## Each standard slim variant (debug) against the tests of the trigger it contains.
variant-tests: guests build
	bash integration/scripts/variant-tests.sh $(VARIANTS)

## The README's main job: the example app served through the shim under containerd.
demo: guests build
	bash integration/scripts/demo.sh

## Requests/s and p99 against `wasmtime serve` and a native hyper server (release
## build); needs `make setup-bench` once.
bench: guests
	bash integration/scripts/bench.sh

## Lifecycle soak (not part of `make test`): SOAK_PODS (100) Pods created and deleted
## through the CRI must leave no shim, mount or cgroup behind; SIGTERM under 64
## clients must answer every request written before the signal.
soak: guests build
	cargo run -p integration --bin soak

## Every fuzz target (integration/fuzz) with libFuzzer for FUZZ_SECONDS each (not part of
## `make test`, which replays the committed corpus instead); needs `make setup-fuzz` once.
fuzz:
	bash integration/scripts/fuzz.sh $(FUZZ_SECONDS)

fmt:
	cargo fmt --all

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

## rustfmt and clippy as CI runs them: any warning (workspace lints included) fails.
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

## Builds the standard shim variants (release) into dist/ and prints their sizes:
## full (every trigger) and one slim build per trigger type.
variants:
	mkdir -p dist
	cargo build --release -p containerd-shim-spin --bins
	cp $(CARGO_TARGET_DIR)/release/containerd-shim-spin-v2 dist/containerd-shim-spin-v2
	cp $(CARGO_TARGET_DIR)/release/spin-shim dist/spin-shim
	for v in $(VARIANTS); do \
	  cargo build --release -p containerd-shim-spin --no-default-features --features $$v --bin containerd-shim-spin-v2 && \
	  cp $(CARGO_TARGET_DIR)/release/containerd-shim-spin-v2 dist/containerd-shim-spin-$$v-v2 || exit 1; \
	done
	@ls -l dist | awk 'NR>1 {printf "%-34s %6.1f MiB\n", $$9, $$5/1048576}'

# Sourced by bench.sh and instructions.sh: the folders they read, and the
# environment every measured server gets.
# What a container sees: with RUST_BACKTRACE set, wasmtime captures a backtrace for an
# error it makes each time a store is dropped (15% of a 0.2 request here).
unset RUST_BACKTRACE RUST_LIB_BACKTRACE
# Throughput is measured on Cranelift's code from the first request: a server that
# compiles at start does so before serving, instead of serving Winch's code until
# the background compile is done (the compile cache then holds the same code).
export SPIN_WASMTIME_FIRST_START_COMPILER=cranelift
target=${CARGO_TARGET_DIR:-target}
guests=${SPIN_TEST_GUESTS:-/var/tmp/css-guests}
tools=${BENCH_TOOLS_DIR:-/var/tmp/css-tools}

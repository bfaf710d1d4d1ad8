#!/usr/bin/env bash
# Builds every guest app the integration tests serve, from source, with the real
# Spin SDKs, and lays each out as a ready-to-run app directory:
#
#   OUT_DIR/<guest>/spin.toml   (the guest's manifest, `source = "app.wasm"`)
#   OUT_DIR/<guest>/app.wasm
#   OUT_DIR/<guest>/.source-hash
#
# Usage: bash integration/guests/build.sh [OUT_DIR]     (default /var/tmp/css-guests)
#
# A guest is rebuilt only when the hash of its inputs (its sources, manifest and
# lockfiles, this script, wasm_inspect.py and the tool versions) differs from
# OUT_DIR/<guest>/.source-hash. Tools are installed idempotently and only when a
# guest that needs them has to be rebuilt.
#
# Environment overrides:
#   CSS_GUESTS_TARGET_DIR  cargo target dir for the Rust guests (default /var/tmp/css-guests-target)
#   CSS_GUESTS_VENV        Python venv for componentize-py      (default /var/tmp/css-guests-venv)
#   CSS_GUESTS_VENV_SDK5   the same for the Python SDK 5 guests (default /var/tmp/css-guests-venv-sdk5)
#   CSS_GUESTS_VENV_RC     the same for the wasi:http 2023-11-10 guest (default /var/tmp/css-guests-venv-rc)
#   CSS_GUESTS_ONLY        space-separated subset of guests to build (default: all)
set -euo pipefail

GUESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT="$GUESTS_DIR/$(basename "${BASH_SOURCE[0]}")"
OUT_DIR=${1:-/var/tmp/css-guests}
TARGET_DIR=${CSS_GUESTS_TARGET_DIR:-/var/tmp/css-guests-target}
VENV=${CSS_GUESTS_VENV:-/var/tmp/css-guests-venv}
VENV_SDK5=${CSS_GUESTS_VENV_SDK5:-/var/tmp/css-guests-venv-sdk5}
VENV_RC=${CSS_GUESTS_VENV_RC:-/var/tmp/css-guests-venv-rc}
# The WIT of wasi:http 0.2.0-rc-2023-11-10 (the engine's copy, which this
# guest's build checks against componentize-py's own WASI of that snapshot).
RC_WIT_DIR=$(cd "$GUESTS_DIR/../../engine/wit/wasi-http-rc-2023-11-10" && pwd)

# Pinned SDK/tool versions (Rust and JS pins live in Cargo.toml/Cargo.lock and
# package.json/package-lock.json; this script is part of every guest's hash).
# Two Python SDK lines: kind `python` (Spin 3 era, wasi:http 0.2) and kind
# `python-sdk5` (Spin 4.1, wasi:http/handler@0.3.0), each in its own venv; and
# kind `python-rc`: componentize-py 0.7.1 alone, the one tool found that emits
# wasi:http 0.2.0-rc-2023-11-10 (Spin 2.1's era).
COMPONENTIZE_PY_VERSION=0.17.2
PY_SPIN_SDK_VERSION=3.4.1
COMPONENTIZE_PY_SDK5_VERSION=0.25.1
PY_SPIN_SDK5_VERSION=5.0.0
COMPONENTIZE_PY_RC_VERSION=0.7.1

# guest | kind | wasm target | cargo artifact | checks passed to wasm_inspect.py
GUESTS=(
  "rust-hello|rust|wasm32-wasip2|rust_hello.wasm|--kind component --export wasi:http/incoming-handler@0.2.0"
  "rust-echo|rust|wasm32-wasip2|rust_echo.wasm|--kind component --export wasi:http/incoming-handler@0.2.0"
  "rust-variables|rust|wasm32-wasip2|rust_variables.wasm|--kind component --export wasi:http/incoming-handler@0.2.0 --import fermyon:spin/variables@2.0.0"
  "rust-outbound|rust|wasm32-wasip2|rust_outbound.wasm|--kind component --export wasi:http/incoming-handler@0.2.0 --import wasi:http/outgoing-handler"
  "rust-trap|rust|wasm32-wasip2|rust_trap.wasm|--kind component --export wasi:http/incoming-handler@0.2.0"
  "rust-no-handler|rust|wasm32-wasip2|rust-no-handler.wasm|--kind component --export wasi:cli/run --no-export wasi:http/incoming-handler"
  "rust-command|rust|wasm32-wasip2|rust-command.wasm|--kind component --export wasi:cli/run --no-export wasi:http/incoming-handler"
  "rust-p3-command|rust|wasm32-wasip2|rust_p3_command.wasm|--kind component --export wasi:cli/run@0.3.0"
  "rust-wagi|rust|wasm32-wasip1|rust-wagi.wasm|--kind core --export _start"
  "rust-cron|rust|wasm32-wasip2|rust_cron.wasm|--kind component --export handle-cron-event --import fermyon:spin-cron/cron-types@2.0.0"
  "rust-sqs|rust|wasm32-wasip2|rust_sqs.wasm|--kind component --export handle-queue-message --import fermyon:spin-sqs/sqs-types@2.0.0"
  "rust-mqtt|rust|wasm32-wasip2|rust_mqtt.wasm|--kind component --export handle-message --import fermyon:spin/mqtt@2.0.0"
  "rust-hello-core|rust|wasm32-wasip1|rust_hello_core.wasm|--kind core --export wasi:http/incoming-handler@0.2.0#handle --custom-prefix component-type"
  "rust-sdk2-hello|rust|wasm32-wasip1|rust_sdk2_hello.wasm|--kind core --export wasi:http/incoming-handler@0.2.0-rc-2023-10-18#handle --custom-prefix component-type"
  "rust-redis|rust|wasm32-wasip2|rust_redis.wasm|--kind component --export fermyon:spin/inbound-redis --import fermyon:spin/redis@2.0.0"
  "rust-kv|rust|wasm32-wasip2|rust_kv.wasm|--kind component --export wasi:http/incoming-handler@0.2.0 --import fermyon:spin/key-value@2.0.0 --import wasi:keyvalue/atomics@0.2.0-draft2"
  "rust-sqlite|rust|wasm32-wasip2|rust_sqlite.wasm|--kind component --export wasi:http/incoming-handler@0.2.0 --import fermyon:spin/sqlite@2.0.0"
  "rust-pg|rust|wasm32-wasip2|rust_pg.wasm|--kind component --export wasi:http/incoming-handler@0.2.0 --import spin:postgres/postgres@3.0.0"
  "rust-mysql|rust|wasm32-wasip2|rust_mysql.wasm|--kind component --export wasi:http/incoming-handler@0.2.0 --import fermyon:spin/mysql@2.0.0"
  "rust-sdk6-hello|rust|wasm32-wasip2|rust_sdk6_hello.wasm|--kind component --export wasi:http/handler@0.3.0-rc-2026-03-15 --import spin:key-value/key-value@3.0.0"
  "rust-sdk7-hello|rust|wasm32-wasip2|rust_sdk7_hello.wasm|--kind component --export wasi:http/handler@0.3.0 --import wasi:http/types@0.3.0"
  "rust-sdk7-outbound|rust|wasm32-wasip2|rust_sdk7_outbound.wasm|--kind component --export wasi:http/handler@0.3.0 --import wasi:http/client@0.3.0"
  "rust-sdk7-chain|rust|wasm32-wasip2|rust_sdk7_chain.wasm|--kind component --export wasi:http/handler@0.3.0 --import wasi:http/client@0.3.0"
  "rust-sdk7-reuse|rust|wasm32-wasip2|rust_sdk7_reuse.wasm|--kind component --export wasi:http/handler@0.3.0 --import wasi:random/random@0.3.0"
  "rust-sdk7-kv|rust|wasm32-wasip2|rust_sdk7_kv.wasm|--kind component --export wasi:http/handler@0.3.0 --import spin:key-value/key-value@3.0.0"
  "rust-sdk7-variables|rust|wasm32-wasip2|rust_sdk7_variables.wasm|--kind component --export wasi:http/handler@0.3.0 --import spin:variables/variables@3.0.0"
  "rust-sdk7-sqlite|rust|wasm32-wasip2|rust_sdk7_sqlite.wasm|--kind component --export wasi:http/handler@0.3.0 --import spin:sqlite/sqlite@3.1.0"
  "rust-sdk7-pg|rust|wasm32-wasip2|rust_sdk7_pg.wasm|--kind component --export wasi:http/handler@0.3.0 --import spin:postgres/postgres@4.2.0"
  "rust-sdk7-mysql|rust|wasm32-wasip2|rust_sdk7_mysql.wasm|--kind component --export wasi:http/handler@0.3.0 --import spin:mysql/mysql@3.0.0"
  "rust-sdk7-redis|rust|wasm32-wasip2|rust_sdk7_redis.wasm|--kind component --export spin:redis/inbound-redis@3.0.0 --import spin:redis/redis@3.0.0"
  "rust-sdk7-otel|rust|wasm32-wasip2|rust_sdk7_otel.wasm|--kind component --export wasi:http/handler@0.3.0 --import wasi:otel/tracing@0.2.0-rc.2"
  "rust-sdk7-middleware|rust|wasm32-wasip2|rust_sdk7_middleware.wasm|--kind component --export wasi:http/handler@0.3.0 --import wasi:http/handler@0.3.0"
  "rust-tcp|rust|wasm32-wasip2|rust_tcp.wasm|--kind component --export wasi:http/incoming-handler@0.2.0 --import wasi:sockets/tcp"
  "rust-deps|rust|wasm32-wasip2|rust_deps.wasm|--kind component --export wasi:http/incoming-handler@0.2.0 --import demo:greeter/greet@0.1.0"
  "python-hello|python|-|-|--kind component --export wasi:http/incoming-handler@0.2.0"
  "python-redis|python|spin-redis|-|--kind component --export fermyon:spin/inbound-redis --import fermyon:spin/redis@2.0.0"
  "python-kv|python|-|-|--kind component --export wasi:http/incoming-handler@0.2.0 --import fermyon:spin/key-value@2.0.0"
  "python-sdk5-hello|python-sdk5|spin:up/http-trigger@4.1.0|-|--kind component --export wasi:http/handler@0.3.0 --import wasi:http/types@0.3.0"
  "python-sdk5-kv|python-sdk5|spin:up/http-trigger@4.1.0|-|--kind component --export wasi:http/handler@0.3.0 --import spin:key-value/key-value@3.0.0"
  "python-sdk5-pg|python-sdk5|spin:up/http-trigger@4.1.0|-|--kind component --export wasi:http/handler@0.3.0 --import spin:postgres/postgres@4.2.0"
  "python-rc-hello|python-rc|proxy|-|--kind component --export wasi:http/incoming-handler@0.2.0-rc-2023-11-10 --import wasi:http/types@0.2.0-rc-2023-11-10"
  "js-hello|js|-|-|--kind component --export wasi:http/incoming-handler@0.2.3"
)

die() { echo "build.sh: error: $*" >&2; exit 1; }
note() { echo "build.sh: $*" >&2; }

mkdir -p "$OUT_DIR" "$OUT_DIR/.logs"
OUT_DIR=$(cd "$OUT_DIR" && pwd)

# One build at a time per OUT_DIR (tests may call this concurrently).
exec 9>"$OUT_DIR/.lock"
flock 9

# ------------------------------------------------------------------ hashing
guest_dir() {
  case "$2" in
    rust) echo "rust/$1" ;;
    *) echo "$1" ;;
  esac
}

# Prints the sha256 of a guest's inputs.
source_hash() {
  local guest=$1 kind=$2 dir
  dir=$(guest_dir "$guest" "$kind")
  (
    cd "$GUESTS_DIR"
    {
      echo "guest=$guest kind=$kind"
      sha256sum build.sh wasm_inspect.py
      if [ "$kind" = rust ]; then
        sha256sum rust/Cargo.toml rust/Cargo.lock rust/.cargo/config.toml
        rustc -V 2>/dev/null || echo "no rustc"
      elif [ "$kind" = js ]; then
        node --version 2>/dev/null || echo "no node"
      elif [ "$kind" = python-rc ]; then
        find "$RC_WIT_DIR" -type f | LC_ALL=C sort | xargs -r -d '\n' sha256sum
      fi
      find "$dir" \( -name node_modules -o -name __pycache__ -o -name target \) -prune -o \
        -type f ! -name '*.wasm' ! -name 'precompiled-source.js*' ! -name '*.buildData.json' -print |
        LC_ALL=C sort | xargs -r -d '\n' sha256sum
    } | sha256sum | cut -d' ' -f1
  )
}

# ------------------------------------------------------------------ tool setup (idempotent, lazy)
RUST_READY=0
ensure_rust() {
  [ "$RUST_READY" = 1 ] && return 0
  command -v cargo >/dev/null || die "cargo not found (install Rust with rustup)"
  if command -v rustup >/dev/null; then
    local installed t
    installed=$(rustup target list --installed)
    for t in wasm32-wasip1 wasm32-wasip2; do
      grep -qx "$t" <<<"$installed" || rustup target add "$t" >&2
    done
  fi
  RUST_READY=1
}

# Creates (or re-creates, when its pins changed) the venv $1 holding the pins $2.
ensure_python() {
  local venv=$1 pins=$2
  if [ ! -x "$venv/bin/componentize-py" ] || [ "$(cat "$venv/.css-pins" 2>/dev/null)" != "$pins" ]; then
    local py
    py=$(command -v python3.11 || command -v python3) || die "python3 not found"
    note "creating Python venv $venv ($pins)"
    rm -rf "$venv"
    "$py" -m venv "$venv" >&2
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet --disable-pip-version-check $pins >&2
    echo "$pins" >"$venv/.css-pins"
  fi
}

JS_READY=0
ensure_js() {
  [ "$JS_READY" = 1 ] && return 0
  command -v npm >/dev/null || die "npm not found (install Node.js 20+)"
  local dir="$GUESTS_DIR/js-hello" lock_hash
  lock_hash=$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$dir/node_modules/.css-lock-hash" 2>/dev/null)" != "$lock_hash" ]; then
    note "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$lock_hash" >"$dir/node_modules/.css-lock-hash"
  fi
  JS_READY=1
}

# ------------------------------------------------------------------ builders
# Each builder writes the guest's app.wasm into $2 (a staging directory).
build_rust() {
  local guest=$1 stage=$2 target=$3 artifact=$4
  ensure_rust
  (cd "$GUESTS_DIR/rust" &&
    cargo build --locked --release --target "$target" -p "$guest" --target-dir "$TARGET_DIR")
  cp "$TARGET_DIR/$target/release/$artifact" "$stage/app.wasm"
  # A guest may hold more packages in subfolders (a middleware's handler):
  # each <guest>/<sub>/Cargo.toml is built too and lands as <sub>.wasm.
  local sub pkg
  for sub in "$GUESTS_DIR/rust/$guest"/*/Cargo.toml; do
    [ -f "$sub" ] || continue
    pkg=$(sed -n 's/^name = "\(.*\)"/\1/p' "$sub" | head -n1)
    (cd "$GUESTS_DIR/rust" &&
      cargo build --locked --release --target "$target" -p "$pkg" --target-dir "$TARGET_DIR")
    cp "$TARGET_DIR/$target/release/${pkg//-/_}.wasm" "$stage/$(basename "$(dirname "$sub")").wasm"
  done
}

build_python() {
  # A Python guest's third GUESTS column names its componentize-py world ("-": spin-http);
  # $4 is the venv, $5 its pins, $6 (optional) the WIT directory.
  local guest=$1 stage=$2 world=$3 venv=$4 pins=$5 wit=()
  [ "$world" = - ] && world=spin-http
  [ -n "${6:-}" ] && wit=(-d "$6")
  ensure_python "$venv" "$pins"
  # Without a WIT directory, componentize-py finds spin_sdk's through the active venv.
  (cd "$GUESTS_DIR/$guest" &&
    PATH="$venv/bin:$PATH" VIRTUAL_ENV="$venv" PYTHONDONTWRITEBYTECODE=1 \
      componentize-py "${wit[@]}" -w "$world" componentize app -o "$stage/app.wasm")
}

build_js() {
  local guest=$1 stage=$2
  ensure_js
  # j2w prints errors but exits 0, so the output file is checked below.
  (cd "$GUESTS_DIR/$guest" &&
    rm -f src/index.js.buildData.json &&
    ./node_modules/.bin/j2w -i src/index.js -o "$stage/app.wasm")
  [ -s "$stage/app.wasm" ] || { echo "j2w did not write app.wasm" >&2; return 1; }
}

build_guest() {
  local guest=$1 kind=$2 target=$3 artifact=$4 checks=$5 stage=$6
  case "$kind" in
    rust) build_rust "$guest" "$stage" "$target" "$artifact" ;;
    python) build_python "$guest" "$stage" "$target" "$VENV" \
      "componentize-py==$COMPONENTIZE_PY_VERSION spin-sdk==$PY_SPIN_SDK_VERSION" ;;
    python-sdk5) build_python "$guest" "$stage" "$target" "$VENV_SDK5" \
      "componentize-py==$COMPONENTIZE_PY_SDK5_VERSION spin-sdk==$PY_SPIN_SDK5_VERSION" ;;
    python-rc) build_python "$guest" "$stage" "$target" "$VENV_RC" \
      "componentize-py==$COMPONENTIZE_PY_RC_VERSION" "$RC_WIT_DIR" ;;
    js) build_js "$guest" "$stage" ;;
  esac
  local src_dir="$GUESTS_DIR/$(guest_dir "$guest" "$kind")"
  cp "$src_dir/spin.toml" "$stage/spin.toml"
  # Static files a guest's manifest mounts travel with it.
  if [ -d "$src_dir/assets" ]; then cp -r "$src_dir/assets" "$stage/assets"; fi
  # shellcheck disable=SC2086
  python3 "$GUESTS_DIR/wasm_inspect.py" check "$stage/app.wasm" $checks
}

# ------------------------------------------------------------------ main loop
failed=()
start_all=$(date +%s)
for entry in "${GUESTS[@]}"; do
  IFS='|' read -r guest kind target artifact checks <<<"$entry"
  if [ -n "${CSS_GUESTS_ONLY:-}" ] && ! grep -qw -- "$guest" <<<"$CSS_GUESTS_ONLY"; then
    continue
  fi
  dest="$OUT_DIR/$guest"
  hash=$(source_hash "$guest" "$kind")
  if [ -s "$dest/app.wasm" ] && [ -f "$dest/spin.toml" ] &&
    [ "$(cat "$dest/.source-hash" 2>/dev/null)" = "$hash" ]; then
    printf '%-16s cached %10s bytes  %s\n' "$guest" "$(stat -c %s "$dest/app.wasm")" "$dest/app.wasm"
    continue
  fi

  log="$OUT_DIR/.logs/$guest.log"
  stage="$OUT_DIR/.stage-$guest"
  rm -rf "$stage"
  mkdir -p "$stage"
  note "building $guest (log: $log)"
  t0=$(date +%s)
  # A subshell with its own `set -e`, run outside any `if` so errexit applies.
  set +e
  (set -e; build_guest "$guest" "$kind" "$target" "$artifact" "$checks" "$stage") >"$log" 2>&1
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    echo "---- $guest FAILED (exit $rc); last lines of $log:" >&2
    tail -n 30 "$log" >&2
    echo "----" >&2
    printf '%-16s FAILED (see %s)\n' "$guest" "$log"
    rm -rf "$stage"
    failed+=("$guest")
    continue
  fi
  echo "$hash" >"$stage/.source-hash"
  rm -rf "$dest"
  mv "$stage" "$dest"
  printf '%-16s built  %10s bytes  %s  (%ss)\n' "$guest" "$(stat -c %s "$dest/app.wasm")" "$dest/app.wasm" "$(($(date +%s) - t0))"
done

if [ "${#failed[@]}" -ne 0 ]; then
  die "failed to build: ${failed[*]} (logs in $OUT_DIR/.logs/)"
fi
note "all guests ready in $OUT_DIR ($(($(date +%s) - start_all))s)"

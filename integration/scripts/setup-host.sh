#!/usr/bin/env bash
# Installs what building, testing and demoing the shim needs on a Debian 12 host
# (`make setup`): the one place that installs anything; the other make targets
# only use what is here. Idempotent: it skips what is there.
#
# usage: setup-host.sh [bench] [fuzz]
#   (none)  system packages (protoc and libseccomp to build; containerd, runc,
#           redis, mosquitto, docker-registry, postgresql, mariadb, curl, wrk for the tests and the demo), the Rust
#           toolchain that rust-toolchain.toml pins with the wasm targets, the
#           guests' SDK tools (componentize-py venv, npm packages of js-hello),
#           moto for the SQS tests, and containerd 1.7 unpacked into a folder
#   bench   also wasmtime-cli, the reference `make bench` measures against, and
#           valgrind (its instructions-per-request counts)
#   fuzz    also cargo-fuzz
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
command -v protoc >/dev/null || need+=(protobuf-compiler)
[ -e /usr/include/seccomp.h ] || need+=(libseccomp-dev)
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
command -v openssl >/dev/null || need+=(openssl)
command -v pkg-config >/dev/null || need+=(pkg-config)
[ -x /bin/busybox ] || need+=(busybox-static)
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null || need+=(mosquitto)
command -v redis-server >/dev/null || need+=(redis-server)
command -v docker-registry >/dev/null || need+=(docker-registry)
# The outbound PostgreSQL tests' server (initdb/postgres under /usr/lib/postgresql,
# run as the package's `postgres` account) and psql.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v psql >/dev/null || need+=(postgresql-client)
# The outbound MySQL tests' server (mariadb-install-db, mariadbd) and client.
[ -x /usr/sbin/mariadbd ] || command -v mariadbd >/dev/null || need+=(mariadb-server)
command -v mariadb >/dev/null || need+=(mariadb-client)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup-host: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The toolchain rust-toolchain.toml pins. Where the machine's default toolchain is
# that very release under another name (`stable`), it is given the pinned name too
# instead of being downloaded again.
pinned=$(sed -n 's/^channel *= *"\(.*\)"$/\1/p' rust-toolchain.toml)
if ! (cd / && rustup toolchain list) | grep -q "^$pinned-"; then
  default=$(cd / && rustup default | cut -d' ' -f1)
  if [ "$(cd / && rustup run "$default" rustc --version | cut -d' ' -f2)" = "$pinned" ]; then
    echo "setup-host: the default toolchain $default is Rust $pinned; naming it $pinned too"
    ln -s "$(cd / && rustup run "$default" rustc --print sysroot)" \
      "${RUSTUP_HOME:-$HOME/.rustup}/toolchains/$pinned-${default#*-}"
  else
    rustup toolchain install "$pinned" --profile minimal --component rustfmt,clippy
  fi
fi
installed=$(rustup target list --installed)
for t in wasm32-wasip1 wasm32-wasip2; do
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done

# A Python venv at $1 holding exactly the pins $2 (recreated when they change).
pinned_venv() {
  [ -x "$1/bin/python" ] && [ "$(cat "$1/.css-pins" 2>/dev/null)" = "$2" ] && return 0
  echo "setup-host: installing $2 into $1"
  rm -rf "$1"
  "$(command -v python3.11 || command -v python3)" -m venv "$1"
  # shellcheck disable=SC2086
  "$1/bin/pip" install --quiet --disable-pip-version-check $2
  echo "$2" >"$1/.css-pins"
}
# moto (the AWS emulator) for the SQS trigger tests.
pinned_venv "${CSS_MOTO_VENV:-/var/tmp/css-moto-venv}" "moto[server]==5.2.5 boto3==1.44.8"
# OpenTelemetry's protobuf classes and gRPC, for the OTLP receiver of the telemetry tests.
pinned_venv "${CSS_OTEL_VENV:-/var/tmp/css-otel-venv}" "opentelemetry-proto==1.38.0 grpcio==1.76.0"

# The guests' SDK tools, at the versions and in the places integration/guests/build.sh
# pins and looks for them (it finds them ready and installs nothing).
guest_pin() { sed -n "s/^$1=//p" integration/guests/build.sh; }
pinned_venv "${CSS_GUESTS_VENV:-/var/tmp/css-guests-venv}" \
  "componentize-py==$(guest_pin COMPONENTIZE_PY_VERSION) spin-sdk==$(guest_pin PY_SPIN_SDK_VERSION)"
js=integration/guests/js-hello
js_lock=$(cat "$js/package.json" "$js/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$js/node_modules/.css-lock-hash" 2>/dev/null)" != "$js_lock" ]; then
  echo "setup-host: npm ci in $js"
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$js_lock" >"$js/node_modules/.css-lock-hash"
fi

# Writes into folder $2 this machine's own apt source for its Debian release with
# only the suite changed to $1: the paragraph of a deb822 `.sources` file, else
# the line of a one-line `.list` file, whose suite is the release's codename.
write_source_for_suite() {
  local codename f out
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  out=$2/derived.sources
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v want="$codename" -v suite="$1" 'BEGIN { RS = ""; FS = "\n" }
      {
        deb = 0; ours = 0; enabled = 1
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) deb = 1
          if ($i ~ /^Enabled:[ \t]*no/) enabled = 0
          if ($i ~ /^Suites:/ && (" " substr($i, 8) " ") ~ ("[ \t]" want "[ \t]")) { ours = 1; $i = "Suites: " suite }
        }
        if (deb && ours && enabled) { for (i = 1; i <= NF; i++) print $i; exit }
      }' "$f" >"$out"
    [ -s "$out" ] && cat "$out" && return 0
  done
  rm -f "$out"
  out=$2/derived.list
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v want="$codename" -v suite="$1" '
      $1 != "deb" { next }
      { n = 2; if ($2 ~ /^\[/) { while ($n !~ /\]$/) n++; n++ } }
      $(n + 1) == want { $(n + 1) = suite; print; exit }' "$f" >"$out"
    [ -s "$out" ] && cat "$out" && return 0
  done
  echo "setup-host: no apt source for $codename in /etc/apt/sources.list{,.d}" >&2
  return 1
}

# containerd 1.7 (from the next Debian release; 1.6 is the system's): downloaded
# through a private apt state whose one source is derived from this machine's,
# and unpacked into its own folder, never installed system-wide.
C17_DIR=${CSS_CONTAINERD17_DIR:-/var/tmp/css-containerd-1.7}
C17_SUITE=${CSS_CONTAINERD17_SUITE:-trixie}
if [ ! -x "$C17_DIR/usr/bin/containerd" ]; then
  echo "setup-host: fetching containerd 1.7 ($C17_SUITE) into $C17_DIR through:"
  apt_dir=$(mktemp -d /var/tmp/css-apt-XXXXXX) && chmod 755 "$apt_dir"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d"
  write_source_for_suite "$C17_SUITE" "$apt_dir/sources.list.d"
  apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Debug::NoLocking=1)
  apt-get "${apt_opts[@]}" update -qq
  (cd "$apt_dir" && apt-get "${apt_opts[@]}" download containerd >/dev/null)
  rm -rf "$C17_DIR"
  dpkg -x "$apt_dir"/containerd_1.7*.deb "$C17_DIR"
  rm -rf "$apt_dir"
  "$C17_DIR/usr/bin/containerd" --version
fi

for extra in "$@"; do
  case "$extra" in
    bench)
      tools=${BENCH_TOOLS_DIR:-/var/tmp/css-tools}
      if [ ! -x "$tools/bin/wasmtime" ]; then
        echo "setup-host: installing wasmtime-cli 48.0.8 into $tools (several minutes)"
        cargo install --locked --quiet wasmtime-cli@48.0.8 --root "$tools"
      fi
      if ! command -v valgrind >/dev/null; then
        echo "setup-host: installing valgrind"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind >/dev/null
      fi
      ;;
    fuzz) command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked ;;
    *) echo "setup-host: unknown part $extra (known: bench fuzz)" >&2; exit 2 ;;
  esac
done
echo "setup-host: ok"

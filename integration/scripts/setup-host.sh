#!/usr/bin/env bash
# Installs what building and testing the shim needs on a Debian 12 host, idempotently:
# protoc and libseccomp (build), containerd and runc (tests, demo), wrk (bench),
# and the wasm rustup targets (guests). Safe to run again: it skips what is there.
set -euo pipefail

need=()
command -v protoc >/dev/null || need+=(protobuf-compiler)
[ -e /usr/include/seccomp.h ] || need+=(libseccomp-dev)
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
command -v pkg-config >/dev/null || need+=(pkg-config)
[ -x /bin/busybox ] || need+=(busybox-static)
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null || need+=(mosquitto)
command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup-host: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

installed=$(rustup target list --installed)
for t in wasm32-wasip1 wasm32-wasip2; do
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done
# moto (the AWS emulator) for the SQS trigger tests, in its own venv.
MOTO_VENV=${CSS_MOTO_VENV:-/var/tmp/css-moto-venv}
MOTO_PINS="moto[server]==5.2.5 boto3==1.44.8"
if [ ! -x "$MOTO_VENV/bin/moto_server" ] || [ "$(cat "$MOTO_VENV/.css-pins" 2>/dev/null)" != "$MOTO_PINS" ]; then
  echo "setup-host: installing $MOTO_PINS into $MOTO_VENV"
  rm -rf "$MOTO_VENV"
  "$(command -v python3.11 || command -v python3)" -m venv "$MOTO_VENV"
  # shellcheck disable=SC2086
  "$MOTO_VENV/bin/pip" install --quiet --disable-pip-version-check $MOTO_PINS
  echo "$MOTO_PINS" >"$MOTO_VENV/.css-pins"
fi
# containerd 1.7 (Debian trixie's package, 1.6 is the system's): downloaded through a
# private apt state and unpacked into its own folder, never installed system-wide.
C17_DIR=${CSS_CONTAINERD17_DIR:-/var/tmp/css-containerd-1.7}
if [ ! -x "$C17_DIR/usr/bin/containerd" ]; then
  echo "setup-host: fetching containerd 1.7 (trixie) into $C17_DIR"
  apt_dir=$(mktemp -d /var/tmp/css-apt-XXXXXX) && chmod 755 "$apt_dir"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" >"$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Debug::NoLocking=1)
  apt-get "${apt_opts[@]}" update -qq
  (cd "$apt_dir" && apt-get "${apt_opts[@]}" download containerd >/dev/null)
  rm -rf "$C17_DIR"
  dpkg -x "$apt_dir"/containerd_1.7*.deb "$C17_DIR"
  rm -rf "$apt_dir"
  "$C17_DIR/usr/bin/containerd" --version
fi
echo "setup-host: ok"

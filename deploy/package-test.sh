#!/usr/bin/env bash
# Installs the package deploy/package.sh built into a fresh Debian 12
# (bookworm, debootstrap minbase) and checks it as a new host would: apt
# resolves its dependencies from Debian's runtime packages alone (no -dev
# package), the haven user, unit and sample config are in place, and
# `havend --version` and `havenctl --help` work as a non-root user.
# Needs root (chroot, mount) and the Debian mirror; not part of CI.
#   sudo deploy/package-test.sh [path/to/haven_<version>_amd64.deb]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEB="${1:-$(ls "$ROOT"/build-package/haven_*_amd64.deb | tail -n 1)}"
MIRROR="${HAVEN_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
[ "$(id -u)" -eq 0 ] || { echo "package-test: run as root (chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap
}

TARGET="$(mktemp -d /tmp/haven-bookworm.XXXXXX)"
# The new root must be enterable by the non-root user of the last check.
chmod 755 "$TARGET"
cleanup() {
  umount "$TARGET/proc" 2>/dev/null || true
  rm -rf "$TARGET"
}
trap cleanup EXIT

echo "package-test: debootstrap bookworm into $TARGET"
debootstrap --variant=minbase bookworm "$TARGET" "$MIRROR" >/dev/null
mount -t proc proc "$TARGET/proc"
cp "$DEB" "$TARGET/tmp/"
in_target() { chroot "$TARGET" env DEBIAN_FRONTEND=noninteractive "$@"; }

in_target apt-get update -q >/dev/null
in_target apt-get install -y -q --no-install-recommends "/tmp/$(basename "$DEB")"

depends="$(in_target dpkg-query -W -f='${Depends}' haven)"
echo "package-test: Depends: $depends"
if echo "$depends" | grep -q -- '-dev'; then
  echo "package-test: FAIL: depends on a -dev package" >&2
  exit 1
fi
dev_installed="$(in_target dpkg-query -W -f='${Package}\n' | grep -- '-dev$' || true)"
if [ -n "$dev_installed" ]; then
  echo "package-test: FAIL: -dev packages installed: $dev_installed" >&2
  exit 1
fi

in_target getent passwd haven >/dev/null
test -f "$TARGET/usr/lib/systemd/system/havend.service" ||
  test -f "$TARGET/lib/systemd/system/havend.service"
test -f "$TARGET/etc/haven/node.textproto.example"
in_target useradd --create-home tester
in_target su tester -s /bin/sh -c 'havend --version && havenctl --help >/dev/null && echo "havenctl --help: ok"'
echo "package-test: PASS ($(basename "$DEB") on a fresh Debian 12)"

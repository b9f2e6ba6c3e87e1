#!/usr/bin/env bash
# Builds haven_<version>_amd64.deb into build-package/: havend, havenctl
# and haven-console with its pages
# (Release, stripped), the systemd unit, the system user and a sample
# config. Installs what it needs first (deploy/setup.sh, with dpkg-dev for
# dpkg-shlibdeps).
#   deploy/package.sh            # -> build-package/haven_<version>_amd64.deb
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$ROOT/build-package"
JOBS="${HAVEN_JOBS:-2}"

"$ROOT/deploy/setup.sh" dpkg-dev

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
  -DHAVEN_BUILD_TESTS=OFF -DHAVEN_BUILD_BENCH=OFF -DCMAKE_INSTALL_PREFIX=/usr
cmake --build "$BUILD" -j"$JOBS" --target havend havenctl haven-console
(cd "$BUILD" && cpack -G DEB)
ls -l "$BUILD"/haven_*.deb

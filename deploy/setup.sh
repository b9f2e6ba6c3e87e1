#!/usr/bin/env bash
# Installs what Haven needs to build, test and run, from Debian 12's
# packages only. Idempotent: packages already present are left alone, and
# the package lists are refreshed at most once, only when something is
# missing. Scripts that need more (fuzzing, packaging) name their extra
# packages as arguments: deploy/setup.sh clang-14 libclang-rt-14-dev
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ make cmake git pkg-config ca-certificates
  # clang++ for the thread-safety preset (-Wthread-safety), run by .ci/run
  clang
  # libraries
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libsodium-dev librocksdb-dev libabsl-dev libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # the HTTP server of the metrics endpoint (server/metrics/metrics_endpoint.cc)
  libcpp-httplib-dev
  # certificates for the demo federation and tests
  openssl
  # systemd-analyze, to check the shipped unit (deploy/systemd/)
  systemd
  # the Python example client and the independent log verifier
  python3 python3-grpcio python3-protobuf python3-cryptography
  # the Prometheus text parser the metrics end-to-end test checks scrapes with
  python3-prometheus-client
  # Go's reference signed-note reader, for the cosigned-checkpoint test
  golang-go golang-golang-x-mod-dev
  # the console: QR codes for TOTP enrolment, and its browser tests
  libqrencode-dev chromium chromium-driver python3-selenium
  "$@"
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"

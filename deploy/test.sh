#!/usr/bin/env bash
# README command two: install what is needed, build, run every test through
# CTest. Exits 0 only if every test passed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/deploy/setup.sh"
"$ROOT/deploy/build.sh"
cd "$ROOT"
ctest --preset default -j2 "$@"

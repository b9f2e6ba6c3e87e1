#!/usr/bin/env bash
# Configures and builds Haven with the default preset (build/). Extra
# arguments are passed to the build, e.g. `deploy/build.sh --target havend`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
JOBS="${HAVEN_JOBS:-2}"
cmake --preset default >/dev/null
cmake --build --preset default -j"$JOBS" "$@"

#!/usr/bin/env bash
# Fuzzes Haven's parsers with libFuzzer under AddressSanitizer and UBSan,
# built by Debian 12's clang-14:
#
#   deploy/fuzz.sh <target|all> [seconds]
#
# A target is one of tests/fuzz/<target>_fuzz.cc (policy_loader,
# signed_note, merkle_proofs, signed_batch, holder_disclose, grantee_inbox,
# manifest, signed_manifest, node_config, consent_receipt, proof_bundle);
# `all` runs each in turn. Each runs for `seconds` (default 600) on a copy
# of its seed corpus in build-fuzz/corpus/<target>, so what the fuzzer adds
# stays out of the repository (and is kept for the next run). Crashing inputs go to
# build-fuzz/crashes/<target>/, full logs to build-fuzz/logs/. Reproduce a
# crash with build-fuzz/tests/fuzz/<target>_libfuzzer <crash file>.
#
# The build is separate from build/ (build-fuzz, CC=clang-14,
# HAVEN_SANITIZE=ON, no benchmarks) and instruments every project library
# for coverage, so the fuzzer sees into the code it drives, not only the
# harness. Builds and fuzzers run at nice 19. Prints, per target, the
# executions, exec/s, final coverage and whether it crashed; exits non-zero
# if any target crashed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build-fuzz"
JOBS="${HAVEN_JOBS:-2}"

usage() {
  echo "usage: deploy/fuzz.sh <target|all> [seconds]" >&2
  echo "targets: ${ALL_TARGETS[*]}" >&2
  exit 2
}

ALL_TARGETS=()
for source in "$ROOT"/tests/fuzz/*_fuzz.cc; do
  name="$(basename "$source" _fuzz.cc)"
  ALL_TARGETS+=("$name")
done

[ $# -ge 1 ] && [ $# -le 2 ] || usage
SECONDS_EACH="${2:-600}"
[[ "$SECONDS_EACH" =~ ^[1-9][0-9]*$ ]] || usage
if [ "$1" = all ]; then
  TARGETS=("${ALL_TARGETS[@]}")
else
  found=0
  for name in "${ALL_TARGETS[@]}"; do [ "$name" = "$1" ] && found=1; done
  [ "$found" -eq 1 ] || usage
  TARGETS=("$1")
fi

# The libraries Haven builds against, then the compiler and libFuzzer
# runtime: installed only when missing, as deploy/setup.sh does.
"$ROOT/deploy/setup.sh" clang-14 libclang-rt-14-dev

# -fsanitize=fuzzer-no-link adds libFuzzer's coverage instrumentation to
# every library; only the *_libfuzzer executables link libFuzzer itself.
CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$BUILD" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHAVEN_SANITIZE=ON \
  -DHAVEN_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link \
  >/dev/null
BINARIES=()
for name in "${TARGETS[@]}"; do BINARIES+=("${name}_libfuzzer"); done
echo "fuzz: building ${BINARIES[*]} in $BUILD"
start=$(date +%s)
nice -n 19 cmake --build "$BUILD" -j"$JOBS" --target "${BINARIES[@]}"
echo "fuzz: built in $(($(date +%s) - start)) s"

export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
mkdir -p "$BUILD/logs"
summary=()
crashed=0
for name in "${TARGETS[@]}"; do
  seeds="$ROOT/tests/fuzz/corpus/$name"
  [ "$name" = policy_loader ] && seeds="$ROOT/tests/fuzz/corpus/policy"
  corpus="$BUILD/corpus/$name"
  crashes="$BUILD/crashes/$name"
  log="$BUILD/logs/$name.log"
  mkdir -p "$corpus" "$crashes"
  cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
  # Targets that keep an in-memory node across inputs keep memory from
  # each input on purpose; libFuzzer's leak check after every such input
  # would scan the whole heap. Leaks are still reported at exit.
  extra=()
  case "$name" in
    holder_disclose | grantee_inbox) extra=(-detect_leaks=0) ;;
  esac
  echo "fuzz: $name for $SECONDS_EACH s (log: $log)"
  rc=0
  nice -n 19 "$BUILD/tests/fuzz/${name}_libfuzzer" \
    -max_total_time="$SECONDS_EACH" -timeout=30 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "${extra[@]}" "$corpus" >"$log" 2>&1 ||
    rc=$?
  # A crash while loading the corpus leaves no status line.
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  cov="$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)"
  if [ "$rc" -ne 0 ]; then
    crashed=1
    found="CRASH (exit $rc): $(ls -t "$crashes" 2>/dev/null | head -1)"
    grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:|fuzz property broken' "$log" || true
  else
    found="no crash"
  fi
  summary+=("$(printf '%-16s %10s execs %8s exec/s  %-20s %s' \
    "$name" "${runs:-?}" "${speed:-?}" "${cov:-cov: ?}" "$found")")
done

echo
echo "fuzz: summary ($SECONDS_EACH s each)"
printf '  %s\n' "${summary[@]}"
exit "$crashed"

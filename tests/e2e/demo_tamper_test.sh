#!/usr/bin/env bash
# The demo's checks can fail: run deploy/demo.sh with its test hook altering
# one stored audit entry of safe-harbor after step 7, and require that the
# demo stops at step 8 with a non-zero exit and never claims success.
#   demo_tamper_test.sh DEMO_SCRIPT TAMPER_PROGRAM   (HAVEN_DEMO_BIN set)
set -uo pipefail
out="$(HAVEN_DEMO_TAMPER="$2" bash "$1" 2>&1)"
rc=$?
echo "$out"
if [ "$rc" -eq 0 ]; then
  echo "FAIL: the demo exited 0 with a tampered audit log"; exit 1
fi
if ! grep -q "^DEMO FAILED: 8\. safe-harbor's audit log does not verify" <<<"$out"; then
  echo "FAIL: the demo did not fail at step 8's verification of safe-harbor"; exit 1
fi
if grep -q "^Demo finished" <<<"$out"; then
  echo "FAIL: the demo claimed success"; exit 1
fi
echo "PASS: demo exited $rc at step 8"

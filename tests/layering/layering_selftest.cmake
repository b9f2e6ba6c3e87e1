# The layering check, checked: on fixture/bad (one wrong include or link per
# rule) it must fail and name each file, line and rule; on fixture/good
# (allowed includes, and comments and strings that only look like
# violations) it must pass.
#   cmake -DCHECKER=<check_layering.cmake> -DFIXTURES=<fixture dir> -P layering_selftest.cmake
cmake_minimum_required(VERSION 3.25)

execute_process(
  COMMAND ${CMAKE_COMMAND} -DHAVEN_ROOT=${FIXTURES}/bad -P ${CHECKER}
  RESULT_VARIABLE bad_rc OUTPUT_VARIABLE bad_out ERROR_VARIABLE bad_out)
message("--- checker on fixture/bad (exit ${bad_rc}):\n${bad_out}")

set(failures "")
if(bad_rc EQUAL 0)
  string(APPEND failures "  the checker passed a tree with violations\n")
endif()
set(expected
  "client/verify/merkle.cc:7: [client-no-server]"
  "policy/evaluator.h:3: [policy-no-server]"
  "policy/evaluator.h:4: [policy-no-grpc]"
  "policy/evaluator.h:5: [policy-no-grpc]"
  "policy/evaluator.h:6: [policy-no-rocksdb]"
  "policy/evaluator.h:7: [policy-no-grpc]"
  "policy/evaluator.h:8: [policy-no-client]"
  "policy/CMakeLists.txt:4: [cmake-deps] policy/ must not link server targets"
  "policy/CMakeLists.txt:4: [cmake-deps] policy/ must not link RocksDB::rocksdb"
  "proto/haven/base/grpc_status.h:4: [base-no-upper]"
  "proto/haven/v1/exchange.proto:5: [base-no-upper]"
  "proto/haven/v1/helpers.cc:1: [proto-contract]"
  "server/metrics/registry.h:3: [metrics-leaf]"
  "server/metrics/registry.h:4: [metrics-leaf]"
  "server/metrics/CMakeLists.txt:4: [cmake-deps] server/metrics/ must not link haven_server_audit"
  "server/metrics/CMakeLists.txt:4: [cmake-deps] server/metrics/ must not link protobuf::libprotobuf"
  "layering: 16 violation(s)")
foreach(e IN LISTS expected)
  string(FIND "${bad_out}" "${e}" at)
  if(at EQUAL -1)
    string(APPEND failures "  missing from the report: ${e}\n")
  endif()
endforeach()

execute_process(
  COMMAND ${CMAKE_COMMAND} -DHAVEN_ROOT=${FIXTURES}/good -P ${CHECKER}
  RESULT_VARIABLE good_rc OUTPUT_VARIABLE good_out ERROR_VARIABLE good_out)
message("--- checker on fixture/good (exit ${good_rc}):\n${good_out}")
if(NOT good_rc EQUAL 0)
  string(APPEND failures "  the checker failed a tree without violations\n")
endif()

if(failures)
  message(FATAL_ERROR "layering_selftest failed:\n${failures}")
endif()
message("layering_selftest: OK")

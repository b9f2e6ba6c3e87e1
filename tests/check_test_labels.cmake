# Every CTest test carries exactly one tier label: unit, integration or e2e,
# so that `ctest -L unit`, `-L integration` and `-L e2e` together run every
# test once. Lists the tests without a tier label and those with two.
#   cmake -DCTEST=<ctest> -DBUILD_DIR=<build dir> -P check_test_labels.cmake
cmake_minimum_required(VERSION 3.25)

# haven_ctest_names(<out> [ctest args...]): names of the tests ctest -N lists.
function(haven_ctest_names out)
  execute_process(COMMAND ${CTEST} -N ${ARGN}
    WORKING_DIRECTORY ${BUILD_DIR}
    RESULT_VARIABLE rc OUTPUT_VARIABLE text ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "ctest -N ${ARGN} failed (${rc}): ${err}")
  endif()
  string(REGEX MATCHALL "Test +#[0-9]+: [^\n]+" lines "${text}")
  set(names "")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^Test +#[0-9]+: " "" name "${line}")
    list(APPEND names "${name}")
  endforeach()
  set(${out} "${names}" PARENT_SCOPE)
endfunction()

haven_ctest_names(all)
list(LENGTH all total)
set(sum 0)
set(tiers unit integration e2e)
set(seen "")
set(twice "")
foreach(tier IN LISTS tiers)
  haven_ctest_names(names -L "^${tier}$")
  list(LENGTH names n)
  message("ctest -N -L ${tier}: ${n}")
  math(EXPR sum "${sum} + ${n}")
  foreach(name IN LISTS names)
    if(name IN_LIST seen)
      list(APPEND twice "${name}")
    endif()
  endforeach()
  list(APPEND seen ${names})
endforeach()
haven_ctest_names(none -LE "^(unit|integration|e2e)$")
message("ctest -N: ${total}; unit + integration + e2e: ${sum}")

set(failures "")
foreach(name IN LISTS none)
  if(name MATCHES "_NOT_BUILT$")
    # gtest_discover_tests lists a binary not built yet under this name.
    string(APPEND failures "  ${name}: test binary not built, its tests are unknown\n")
  else()
    string(APPEND failures "  ${name}: no tier label (unit, integration or e2e)\n")
  endif()
endforeach()
foreach(name IN LISTS twice)
  string(APPEND failures "  ${name}: more than one tier label\n")
endforeach()
if(NOT sum EQUAL total AND failures STREQUAL "")
  string(APPEND failures "  ${total} tests but ${sum} tier labels\n")
endif()
if(failures)
  message(FATAL_ERROR "test labels:\n${failures}"
          "Declare tests in tests/unit, tests/integration or tests/e2e with "
          "haven_cc_test (the folder gives the label), or label add_test "
          "tests by hand.")
endif()
message("test labels: OK")

# Layering check: dependencies point one way (see DESIGN.md),
#   proto <- policy <- server,  proto <- client <- server.
#
#   cmake -DHAVEN_ROOT=<source tree> -P tests/layering/check_layering.cmake
#
# Reads every file under <root>/policy, <root>/client, <root>/proto and
# <root>/server/metrics and
# prints one line per violation,
#   <path>:<line>: [<rule>] <what>: <the offending line>
# then fails (exit code 1) if there was any. Rules:
#   client-no-server   client/ includes no server/ header
#   policy-no-server   policy/ includes no server/ header
#   policy-no-client   policy/ includes no client/ header (client/cli uses
#                      policy, so the other way would be a cycle)
#   policy-no-grpc     policy/ includes no gRPC header (grpcpp/, grpc/,
#                      *.grpc.pb.h, nor a proto/haven/base helper that
#                      includes one)
#   policy-no-rocksdb  policy/ includes no RocksDB header (rocksdb/, nor a
#                      base helper that includes one)
#   base-no-upper      proto/ (the base helpers, and imports of .proto files)
#                      refers to nothing in policy/, client/ or server/
#   proto-contract     proto/ holds only the wire contract (.proto files,
#                      CMakeLists.txt / *.cmake) and proto/haven/base/*.h
#   cmake-deps         policy/ and client/ CMakeLists link no haven_server_*
#                      target; policy/ links no gRPC:: or RocksDB:: target;
#                      server/metrics/ links no other haven_ target, nor
#                      gRPC::, RocksDB:: or protobuf::
#   metrics-leaf       server/metrics/ (the metrics registry every server
#                      module records into) includes only its own headers,
#                      Abseil, the C/C++ library and httplib.h: nothing of
#                      Haven's, no gRPC, protobuf or RocksDB, so that any
#                      module may depend on it without a cycle
# Only C preprocessor includes and .proto imports are read; a line ending in
# "// layering: allow" is skipped (none exists today; say why if you add one).
cmake_minimum_required(VERSION 3.25)

if(NOT HAVEN_ROOT)
  message(FATAL_ERROR "usage: cmake -DHAVEN_ROOT=<source tree> -P check_layering.cmake")
endif()
get_filename_component(HAVEN_ROOT "${HAVEN_ROOT}" ABSOLUTE)

set(violations 0)
set(report "")

function(violation path line rule what text)
  string(STRIP "${text}" text)
  string(APPEND report "${path}:${line}: [${rule}] ${what}: ${text}\n")
  math(EXPR n "${violations} + 1")
  set(violations ${n} PARENT_SCOPE)
  set(report "${report}" PARENT_SCOPE)
endfunction()

# haven_read_lines(<file> <out>): the file's lines as a CMake list, with the
# characters CMake lists treat specially (; [ ]) replaced so that element i is
# line i + 1.
function(haven_read_lines file out)
  file(READ "${file}" content)
  string(REPLACE ";" "<semicolon>" content "${content}")
  string(REPLACE "[" "<lbracket>" content "${content}")
  string(REPLACE "]" "<rbracket>" content "${content}")
  string(REPLACE "\\" "<backslash>" content "${content}")
  string(REPLACE "\r" "" content "${content}")
  string(REPLACE "\n" ";" content "${content}")
  set(${out} "${content}" PARENT_SCOPE)
endfunction()

# haven_includes(<file> <out>): "<line>|<included path>|<text>" for each
# #include (C/C++) or import (.proto) in the file.
function(haven_includes file out)
  haven_read_lines("${file}" lines)
  set(result "")
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    if(line MATCHES "//[ \t]*layering:[ \t]*allow")
      continue()
    endif()
    if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"]")
      list(APPEND result "${n}|${CMAKE_MATCH_1}|${line}")
    elseif(file MATCHES "\\.proto$" AND
           line MATCHES "^[ \t]*import[ \t]+(public[ \t]+|weak[ \t]+)?\"([^\"]+)\"")
      list(APPEND result "${n}|${CMAKE_MATCH_2}|${line}")
    endif()
  endforeach()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

# Splits one haven_includes entry ("line|include|text") back into its line
# number, the included path, and the source text with its escapes undone.
function(haven_include_parts entry out_line out_inc out_text)
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 line)
  list(GET parts 1 inc)
  list(SUBLIST parts 2 -1 text)
  string(JOIN "|" text ${text})
  string(REPLACE "<semicolon>" ";" text "${text}")
  string(REPLACE "<lbracket>" "[" text "${text}")
  string(REPLACE "<rbracket>" "]" text "${text}")
  string(REPLACE "<backslash>" "\\" text "${text}")
  set(${out_line} "${line}" PARENT_SCOPE)
  set(${out_inc} "${inc}" PARENT_SCOPE)
  set(${out_text} "${text}" PARENT_SCOPE)
endfunction()

function(haven_is_grpc inc out)
  if(inc MATCHES "^(grpcpp|grpc|grpc\\+\\+)/" OR inc MATCHES "\\.grpc\\.pb\\.h$")
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

# Base helpers (proto/haven/base/*.h) that themselves include gRPC or RocksDB
# headers: including one of them from policy/ brings gRPC / RocksDB in.
set(base_grpc "")
set(base_rocksdb "")
file(GLOB base_headers RELATIVE "${HAVEN_ROOT}/proto" "${HAVEN_ROOT}/proto/haven/base/*.h")
foreach(h IN LISTS base_headers)
  haven_includes("${HAVEN_ROOT}/proto/${h}" incs)
  foreach(entry IN LISTS incs)
    string(REPLACE "|" ";" parts "${entry}")
    list(GET parts 1 inc)
    haven_is_grpc("${inc}" g)
    if(g)
      list(APPEND base_grpc "${h}")
    endif()
    if(inc MATCHES "^rocksdb/")
      list(APPEND base_rocksdb "${h}")
    endif()
  endforeach()
endforeach()

# --- client/ and policy/ --------------------------------------------------
foreach(module client policy)
  file(GLOB_RECURSE files RELATIVE "${HAVEN_ROOT}" LIST_DIRECTORIES false
       "${HAVEN_ROOT}/${module}/*.h" "${HAVEN_ROOT}/${module}/*.hh"
       "${HAVEN_ROOT}/${module}/*.hpp" "${HAVEN_ROOT}/${module}/*.cc"
       "${HAVEN_ROOT}/${module}/*.cpp" "${HAVEN_ROOT}/${module}/*.c"
       "${HAVEN_ROOT}/${module}/*.inc")
  list(SORT files)
  foreach(path IN LISTS files)
    haven_includes("${HAVEN_ROOT}/${path}" incs)
    foreach(entry IN LISTS incs)
      haven_include_parts("${entry}" line inc text)
      if(inc MATCHES "^server/")
        violation("${path}" ${line} ${module}-no-server
                  "${module}/ must not include server/ headers" "${text}")
      endif()
      if(module STREQUAL "policy")
        if(inc MATCHES "^client/")
          violation("${path}" ${line} policy-no-client
                    "policy/ must not include client/ headers" "${text}")
        endif()
        haven_is_grpc("${inc}" g)
        if(g)
          violation("${path}" ${line} policy-no-grpc
                    "policy/ must not include gRPC headers" "${text}")
        elseif(inc IN_LIST base_grpc)
          violation("${path}" ${line} policy-no-grpc
                    "policy/ must not include gRPC headers (via proto/${inc})" "${text}")
        endif()
        if(inc MATCHES "^rocksdb/")
          violation("${path}" ${line} policy-no-rocksdb
                    "policy/ must not include RocksDB headers" "${text}")
        elseif(inc IN_LIST base_rocksdb)
          violation("${path}" ${line} policy-no-rocksdb
                    "policy/ must not include RocksDB headers (via proto/${inc})" "${text}")
        endif()
      endif()
    endforeach()
  endforeach()

  # Link dependencies declared in the module's CMake files.
  file(GLOB_RECURSE cmake_files RELATIVE "${HAVEN_ROOT}" LIST_DIRECTORIES false
       "${HAVEN_ROOT}/${module}/CMakeLists.txt" "${HAVEN_ROOT}/${module}/*.cmake")
  list(SORT cmake_files)
  foreach(path IN LISTS cmake_files)
    haven_read_lines("${HAVEN_ROOT}/${path}" lines)
    set(n 0)
    foreach(line IN LISTS lines)
      math(EXPR n "${n} + 1")
      string(REGEX REPLACE "#.*" "" code "${line}")
      if(code MATCHES "haven_server_[A-Za-z0-9_]+")
        violation("${path}" ${n} cmake-deps
                  "${module}/ must not link server targets (${CMAKE_MATCH_0})" "${line}")
      endif()
      if(module STREQUAL "policy" AND code MATCHES "(gRPC|RocksDB)::[A-Za-z0-9_+]+")
        violation("${path}" ${n} cmake-deps
                  "policy/ must not link ${CMAKE_MATCH_0}" "${line}")
      endif()
    endforeach()
  endforeach()
endforeach()

# --- server/metrics/ ---------------------------------------------------------
file(GLOB_RECURSE files RELATIVE "${HAVEN_ROOT}" LIST_DIRECTORIES false
     "${HAVEN_ROOT}/server/metrics/*.h" "${HAVEN_ROOT}/server/metrics/*.cc")
list(SORT files)
foreach(path IN LISTS files)
  haven_includes("${HAVEN_ROOT}/${path}" incs)
  foreach(entry IN LISTS incs)
    haven_include_parts("${entry}" line inc text)
    if(inc MATCHES "^server/metrics/" OR inc MATCHES "^absl/" OR
       inc STREQUAL "httplib.h")
      continue()
    endif()
    # Anything else with a directory or a quoted path is a project or
    # third-party header; <cstdio>, <sys/socket.h> and the like are the
    # system's.
    if(text MATCHES "\"" OR inc MATCHES "^(server|client|policy|proto|haven|grpc|grpcpp|google|rocksdb|sodium)/")
      violation("${path}" ${line} metrics-leaf
                "server/metrics/ includes only its own headers, Abseil and httplib.h" "${text}")
    endif()
  endforeach()
endforeach()
file(GLOB_RECURSE cmake_files RELATIVE "${HAVEN_ROOT}" LIST_DIRECTORIES false
     "${HAVEN_ROOT}/server/metrics/CMakeLists.txt")
foreach(path IN LISTS cmake_files)
  haven_read_lines("${HAVEN_ROOT}/${path}" lines)
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    string(REGEX REPLACE "#.*" "" code "${line}")
    string(REGEX MATCHALL "haven_[A-Za-z0-9_]+" targets "${code}")
    foreach(t IN LISTS targets)
      if(NOT t MATCHES "^haven_server_metrics(_http)?$" AND
         NOT t STREQUAL "haven_cc_library")
        violation("${path}" ${n} cmake-deps
                  "server/metrics/ must not link ${t}" "${line}")
      endif()
    endforeach()
    if(code MATCHES "(gRPC|RocksDB|protobuf)::[A-Za-z0-9_+]+")
      violation("${path}" ${n} cmake-deps
                "server/metrics/ must not link ${CMAKE_MATCH_0}" "${line}")
    endif()
  endforeach()
endforeach()

# --- proto/ -----------------------------------------------------------------
file(GLOB_RECURSE files RELATIVE "${HAVEN_ROOT}" LIST_DIRECTORIES false
     "${HAVEN_ROOT}/proto/*")
list(SORT files)
foreach(path IN LISTS files)
  get_filename_component(name "${path}" NAME)
  get_filename_component(dir "${path}" DIRECTORY)
  if(path MATCHES "\\.proto$")
    set(scan TRUE)
  elseif(name STREQUAL "CMakeLists.txt" OR name MATCHES "\\.cmake$")
    set(scan FALSE)
  elseif(dir STREQUAL "proto/haven/base" AND name MATCHES "\\.h$")
    set(scan TRUE)
  else()
    violation("${path}" 1 proto-contract
              "proto/ holds only .proto files, CMake files and proto/haven/base/*.h"
              "${name}")
    set(scan FALSE)
  endif()
  if(scan)
    haven_includes("${HAVEN_ROOT}/${path}" incs)
    foreach(entry IN LISTS incs)
      haven_include_parts("${entry}" line inc text)
      if(inc MATCHES "^(policy|client|server)/")
        violation("${path}" ${line} base-no-upper
                  "proto/ must not refer to ${CMAKE_MATCH_1}/" "${text}")
      endif()
    endforeach()
  endif()
endforeach()

if(violations GREATER 0)
  message("${report}")
  message(FATAL_ERROR "layering: ${violations} violation(s) in ${HAVEN_ROOT} "
          "(dependencies point one way: proto <- policy <- server, "
          "proto <- client <- server; see DESIGN.md)")
endif()
message("layering: OK (${HAVEN_ROOT}: policy/, client/, proto/, server/metrics/)")

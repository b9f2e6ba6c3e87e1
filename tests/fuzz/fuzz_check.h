// What a fuzz target prints. FuzzCheck reports a broken property of the
// code under test: hostile input must only ever get a status back; when
// the code instead breaks one of its own promises (a signature it made does
// not verify, a parse does not round-trip), the target aborts, which
// libFuzzer and the standalone driver both treat as a crash, with a line
// saying what. QuietProtobufLogs keeps protobuf's parse complaints out of
// the output. RecycledFixture keeps a stateful target's fixture small.
#ifndef HAVEN_TESTS_FUZZ_FUZZ_CHECK_H_
#define HAVEN_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "google/protobuf/stubs/logging.h"

namespace haven::fuzz {

inline void FuzzCheck(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz property broken: %s\n", what);
  std::abort();
}

// Protobuf logs an error for each string field that is not UTF-8 as it
// refuses to parse it: under a fuzzer, a line for most inputs, which slows
// the run and buries the report of a real crash. Only fatal messages are
// kept. Targets that parse binary protobuf call this first; idempotent.
inline void QuietProtobufLogs() {
  static const bool installed = [] {
    google::protobuf::SetLogHandler([](google::protobuf::LogLevel level,
                                       const char* file, int line,
                                       const std::string& message) {
      if (level < google::protobuf::LOGLEVEL_FATAL) return;
      std::fprintf(stderr, "[libprotobuf FATAL %s:%d] %s\n", file, line,
                   message.c_str());
    });
    return true;
  }();
  (void)installed;
}

// The fixture of a stateful target (a node's parts in memory) for the next
// input: made by `make`, and made afresh after every `inputs_per_fixture`
// inputs, since what it keeps grows with each and a whole run would outgrow
// libFuzzer's memory limit. The one in use at exit is never destroyed: its
// log's commit thread could outlive static destruction.
template <typename Fixture>
Fixture& RecycledFixture(int inputs_per_fixture,
                         std::unique_ptr<Fixture> (*make)()) {
  static Fixture* fixture = nullptr;
  static int served = 0;
  if (fixture == nullptr || served == inputs_per_fixture) {
    delete fixture;
    fixture = make().release();
    served = 0;
  }
  ++served;
  return *fixture;
}

}  // namespace haven::fuzz

#endif  // HAVEN_TESTS_FUZZ_FUZZ_CHECK_H_

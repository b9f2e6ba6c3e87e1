// StderrCapture: sends what this process writes to fd 2 into a temporary
// file until Release(), so a test sees exactly the bytes the event log
// (server/node/event_log.h) wrote. Not thread-safe; one at a time.
#ifndef HAVEN_TESTS_TESTING_STDERR_CAPTURE_H_
#define HAVEN_TESTS_TESTING_STDERR_CAPTURE_H_

#include <unistd.h>

#include <cstdio>
#include <string>

namespace haven::testing {

class StderrCapture {
 public:
  StderrCapture() : file_(std::tmpfile()) {
    std::fflush(stderr);
    saved_ = dup(STDERR_FILENO);
    if (file_ != nullptr) dup2(fileno(file_), STDERR_FILENO);
  }
  ~StderrCapture() { Release(); }

  std::string Release() {
    if (file_ == nullptr) return "";
    std::fflush(stderr);
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    std::string out;
    std::rewind(file_);
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), file_)) > 0) {
      out.append(buffer, n);
    }
    std::fclose(file_);
    file_ = nullptr;
    return out;
  }

 private:
  FILE* file_;
  int saved_ = -1;
};

}  // namespace haven::testing

#endif  // HAVEN_TESTS_TESTING_STDERR_CAPTURE_H_

// Subprocess: a real child process for end-to-end tests.
//
// Output goes to files so a test can read it while the child runs. The
// destructor kills (SIGKILL) and reaps a child still running, so a failing
// test never leaves processes behind. Not thread-safe.
#ifndef HAVEN_TESTS_TESTING_SUBPROCESS_H_
#define HAVEN_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace haven::testing {

class Subprocess {
 public:
  // Starts argv[0] with `argv`, stdout and stderr appended to the files.
  // The child inherits this process's environment, with each "NAME=value"
  // of `env` added (replacing a variable of the same name). Aborts the test
  // binary if the process cannot be spawned.
  Subprocess(const std::vector<std::string>& argv,
             const std::string& stdout_path, const std::string& stderr_path,
             const std::vector<std::string>& env = {});
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void Signal(int signal_number);
  // Waits up to `timeout`; returns the exit code (128+signal if killed) or
  // nullopt if still running.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// Runs a command to completion (bounded by `timeout`); returns the exit code
// and fills `output` with stdout+stderr. Kills it on timeout (returns -1).
int RunCommand(const std::vector<std::string>& argv, std::string* output,
               std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Reads a whole file ("" if missing).
std::string ReadFileOrEmpty(const std::string& path);

// `s` without its trailing newlines: a command's one-line answer.
std::string Trimmed(std::string s);
// The string value of the first `"name":"..."` in a command's JSON output,
// or "" (the tests read one field without a JSON parser).
std::string JsonField(const std::string& json, const std::string& name);

}  // namespace haven::testing

#endif  // HAVEN_TESTS_TESTING_SUBPROCESS_H_

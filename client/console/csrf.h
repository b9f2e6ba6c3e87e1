// CsrfGuard: the console's CSRF tokens. A token is HMAC-SHA256 of the
// session token under a key drawn at process start, so it is bound to one
// session, needs no server-side state, and dies with the process (as do
// the console's view of sessions; the node keeps the sessions themselves).
// Compared in constant time. Thread-safe (immutable after Create).
#ifndef HAVEN_CLIENT_CONSOLE_CSRF_H_
#define HAVEN_CLIENT_CONSOLE_CSRF_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace haven::client::console {

class CsrfGuard {
 public:
  // FAILED_PRECONDITION if libsodium cannot start.
  static absl::StatusOr<std::unique_ptr<CsrfGuard>> Create();
  ~CsrfGuard();
  CsrfGuard(const CsrfGuard&) = delete;
  CsrfGuard& operator=(const CsrfGuard&) = delete;

  // Lower-case hex HMAC of `session_token`.
  std::string TokenFor(std::string_view session_token) const;
  // True when `presented` is TokenFor(session_token); constant time in the
  // token's contents.
  bool Check(std::string_view session_token, std::string_view presented) const;

 private:
  CsrfGuard();
  unsigned char* key_;  // sodium_malloc'd, wiped and freed in the destructor
};

}  // namespace haven::client::console

#endif  // HAVEN_CLIENT_CONSOLE_CSRF_H_

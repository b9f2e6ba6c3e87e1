// gMock matchers for absl::Status and absl::StatusOr, defined once for all
// tests (Debian's Abseil ships none).
//
//   EXPECT_THAT(vault->Get(id), IsOk());
//   EXPECT_THAT(vault->Get(id), StatusIs(absl::StatusCode::kDataLoss));
//   EXPECT_THAT(vault->Get(id), StatusIs(absl::StatusCode::kDataLoss,
//                                        HasSubstr("failed authentication")));
#ifndef HAVEN_TESTS_TESTING_STATUS_MATCHERS_H_
#define HAVEN_TESTS_TESTING_STATUS_MATCHERS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace haven::testing {

inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = ::haven::testing::GetStatus(arg);
  if (!status.ok()) *result_listener << "status is " << status;
  return status.ok();
}

MATCHER_P(StatusIs, code,
          std::string("has status code ") +
              absl::StatusCodeToString(static_cast<absl::StatusCode>(code))) {
  const absl::Status& status = ::haven::testing::GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code;
}

// The code, and the message matched by `message_matcher`, e.g.
//   StatusIs(absl::StatusCode::kNotFound, HasSubstr("no record"))
MATCHER_P2(StatusIs, code, message_matcher,
           std::string("has status code ") +
               absl::StatusCodeToString(static_cast<absl::StatusCode>(code)) +
               " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  const absl::Status& status = ::haven::testing::GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::Matches(message_matcher)(std::string(status.message()));
}

}  // namespace haven::testing

#endif  // HAVEN_TESTS_TESTING_STATUS_MATCHERS_H_

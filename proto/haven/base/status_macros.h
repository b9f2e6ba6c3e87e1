// Early-return helpers for absl::Status and absl::StatusOr.
//
// The Abseil shipped by Debian 12 (20220623) has no status macros, so Haven
// defines its own here, once. This header sits beside the wire contract
// because that is the one layer every module (policy, client, server)
// already depends on.
#ifndef HAVEN_BASE_STATUS_MACROS_H_
#define HAVEN_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define HAVEN_STATUS_CONCAT_INNER_(a, b) a##b
#define HAVEN_STATUS_CONCAT_(a, b) HAVEN_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define HAVEN_RETURN_IF_ERROR(expr)                                 \
  do {                                                              \
    if (absl::Status haven_status_ = (expr); !haven_status_.ok()) { \
      return haven_status_;                                         \
    }                                                               \
  } while (false)

// HAVEN_ASSIGN_OR_RETURN(auto x, FnReturningStatusOr());
// Declares or assigns `lhs` from the value, or returns the error.
#define HAVEN_ASSIGN_OR_RETURN(lhs, expr) \
  HAVEN_ASSIGN_OR_RETURN_IMPL_(           \
      HAVEN_STATUS_CONCAT_(haven_statusor_, __LINE__), lhs, expr)

#define HAVEN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                 \
  if (!statusor.ok()) {                                   \
    return std::move(statusor).status();                  \
  }                                                       \
  lhs = std::move(statusor).value()

#endif  // HAVEN_BASE_STATUS_MACROS_H_

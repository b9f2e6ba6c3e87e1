// Limits on what a local caller or a peer may send, checked before anything
// is stored or logged (INVALID_ARGUMENT or RESOURCE_EXHAUSTED beyond them).
// The proto comments of each field name the limit that applies; this is
// the one place the numbers are.
#ifndef HAVEN_BASE_LIMITS_H_
#define HAVEN_BASE_LIMITS_H_

#include <cstddef>

namespace haven::limits {

// Free text that is logged: reasons, justifications.
inline constexpr size_t kMaxReasonBytes = 500;
inline constexpr size_t kMaxJustificationBytes = 2000;
// A peer's request id, a local principal's name.
inline constexpr size_t kMaxRequestIdChars = 64;
inline constexpr size_t kMaxPrincipalBytes = 128;
// One serialized request inside a peer's signed batch.
inline constexpr size_t kMaxRequestBytes = 16 * 1024;
// Categories asked in one request.
inline constexpr int kMaxCategoriesPerRequest = 32;

}  // namespace haven::limits

#endif  // HAVEN_BASE_LIMITS_H_

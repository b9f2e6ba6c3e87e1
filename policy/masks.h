// Bit masks over the haven.v1 vocabularies, used by the compiled tables.
// Pure constants and inline helpers; thread-safe.
#ifndef HAVEN_POLICY_MASKS_H_
#define HAVEN_POLICY_MASKS_H_

#include <cstdint>

#include "haven/v1/common.pb.h"

namespace haven::policy {

// One bit per haven::v1::Category value.
using CategoryMask = uint32_t;
// One bit per haven::v1::Purpose value.
using PurposeMask = uint32_t;

inline constexpr int kCategorySlots = haven::v1::Category_ARRAYSIZE;
inline constexpr int kPurposeSlots = haven::v1::Purpose_ARRAYSIZE;
inline constexpr int kSectorSlots = haven::v1::Sector_ARRAYSIZE;
static_assert(kCategorySlots <= 32, "CategoryMask is 32 bits wide");
static_assert(kPurposeSlots <= 32, "PurposeMask is 32 bits wide");

// The bit of `value`, or 0 for values outside [0, 32).
inline constexpr uint32_t Bit(int value) {
  return value >= 0 && value < 32 ? uint32_t{1} << value : 0;
}

}  // namespace haven::policy

#endif  // HAVEN_POLICY_MASKS_H_

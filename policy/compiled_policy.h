// CompiledPolicy: a validated SharingPolicy turned into bitmask tables.
//
// For every (requester sector, purpose) and every (requester agency id,
// purpose) the table holds four category masks: permit without consent,
// permit with consent, deny, emergency. A requester's masks are the OR of
// its sector's row and its agency's row, so a per-category decision is a few
// AND/OR instructions. The first matching rule of each kind is kept per
// category for explanations. Immutable after Compile: thread-safe.
#ifndef HAVEN_POLICY_COMPILED_POLICY_H_
#define HAVEN_POLICY_COMPILED_POLICY_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "haven/v1/policy.pb.h"
#include "policy/masks.h"

namespace haven::policy {

enum RuleKind : int {
  kPermit = 0,         // PERMIT without requires_consent
  kPermitConsent = 1,  // PERMIT with requires_consent
  kDeny = 2,
  kEmergency = 3,
  kRuleKinds = 4,
};

// "No rule" in rule-index fields.
inline constexpr int16_t kNoRule = INT16_MAX;

struct RuleMasks {
  std::array<CategoryMask, kRuleKinds> by_kind{};
};

// One requester row (a sector or an agency id) of the tables.
struct RequesterTable {
  std::array<RuleMasks, kPurposeSlots> masks{};
  // first_rule[kind][purpose][category]: index into rules(), or kNoRule.
  int16_t first_rule[kRuleKinds][kPurposeSlots][kCategorySlots];
  RequesterTable();
};

class CompiledPolicy {
 public:
  // Validates (INVALID_ARGUMENT as ValidatePolicy) and compiles `policy`.
  static absl::StatusOr<std::shared_ptr<const CompiledPolicy>> Compile(
      const haven::v1::SharingPolicy& policy);

  const haven::v1::SharingPolicy& policy() const { return policy_; }
  // Hex SHA-256 of the policy's deterministic serialization.
  const std::string& version() const { return version_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  const haven::v1::Rule& rule(int index) const { return policy_.rules(index); }

  // The row of `sector` (an empty row for values out of range).
  const RequesterTable& ForSector(int sector) const {
    return sector > 0 && sector < kSectorSlots ? sectors_[sector] : empty_;
  }
  // The row of `agency_id`, or nullptr if no rule names it.
  const RequesterTable* ForAgency(const std::string& agency_id) const {
    auto it = agencies_.find(agency_id);
    return it == agencies_.end() ? nullptr : it->second.get();
  }

 private:
  CompiledPolicy() = default;

  haven::v1::SharingPolicy policy_;
  std::string version_;
  std::vector<std::string> warnings_;
  std::array<RequesterTable, kSectorSlots> sectors_;
  absl::flat_hash_map<std::string, std::unique_ptr<RequesterTable>> agencies_;
  RequesterTable empty_;
};

}  // namespace haven::policy

#endif  // HAVEN_POLICY_COMPILED_POLICY_H_

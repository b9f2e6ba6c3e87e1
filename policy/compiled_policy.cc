#include "policy/compiled_policy.h"

#include <utility>

#include "haven/base/status_macros.h"
#include "policy/loader.h"

namespace haven::policy {
namespace {

RuleKind KindOf(const haven::v1::Rule& rule) {
  switch (rule.effect()) {
    case haven::v1::DENY:
      return kDeny;
    case haven::v1::EMERGENCY_PERMIT:
      return kEmergency;
    default:
      return rule.requires_consent() ? kPermitConsent : kPermit;
  }
}

void AddRule(RequesterTable& table, RuleKind kind, int index,
             const haven::v1::Rule& rule) {
  for (int p : rule.purposes()) {
    if (p <= 0 || p >= kPurposeSlots) continue;
    for (int c : rule.categories()) {
      if (c <= 0 || c >= kCategorySlots) continue;
      table.masks[p].by_kind[kind] |= Bit(c);
      int16_t& first = table.first_rule[kind][p][c];
      if (index < first) first = static_cast<int16_t>(index);
    }
  }
}

}  // namespace

RequesterTable::RequesterTable() {
  for (auto& kind : first_rule)
    for (auto& purpose : kind)
      for (int16_t& rule : purpose) rule = kNoRule;
}

absl::StatusOr<std::shared_ptr<const CompiledPolicy>> CompiledPolicy::Compile(
    const haven::v1::SharingPolicy& policy) {
  HAVEN_ASSIGN_OR_RETURN(std::vector<std::string> warnings,
                         ValidatePolicy(policy, "policy"));
  if (policy.rules_size() >= kNoRule) {
    return absl::InvalidArgumentError("policy has too many rules");
  }
  std::shared_ptr<CompiledPolicy> compiled(new CompiledPolicy());
  compiled->policy_ = policy;
  compiled->version_ = PolicyVersion(policy);
  compiled->warnings_ = std::move(warnings);
  for (int i = 0; i < policy.rules_size(); ++i) {
    const haven::v1::Rule& rule = policy.rules(i);
    RuleKind kind = KindOf(rule);
    for (int s : rule.requester().sectors()) {
      if (s > 0 && s < kSectorSlots)
        AddRule(compiled->sectors_[s], kind, i, rule);
    }
    for (const std::string& agency : rule.requester().agency_ids()) {
      auto& table = compiled->agencies_[agency];
      if (table == nullptr) table = std::make_unique<RequesterTable>();
      AddRule(*table, kind, i, rule);
    }
  }
  return std::shared_ptr<const CompiledPolicy>(std::move(compiled));
}

}  // namespace haven::policy

// The need-to-know decision (DESIGN.md, "Need-to-know decision").
//
// For each requested category c:
//   allowed(c) = some permit rule matches (requester sector or agency,
//                purpose, c)
//            and no deny rule matches
//            and not refused by the survivor, to everyone or to this
//                requester's agency (unless an emergency rule)
//            and (the rule needs no consent, or an active consent grants c
//                 to this requester (agency or its sector) for this purpose,
//                 at this time, within its use limit).
// Default deny. Order of checks per category: a deny rule withholds; else a
// permit without consent allows (unless refused); else a permit with a usable
// consent allows (unless refused); else an emergency rule allows when the
// request carries a substantial justification (break-glass) and fails the
// whole request
// with INVALID_ARGUMENT naming the rule when it does not; else withheld with
// REFUSED_BY_SURVIVOR, the consent's reason (expired, paused, ...),
// NO_CONSENT or NO_MATCHING_RULE.
//
// Decide() is the allocation-free fast path; Evaluator::Evaluate() adds the
// haven.v1.Decision with explanations. Both are thread-safe (they only read
// immutable inputs).
#ifndef HAVEN_POLICY_EVALUATOR_H_
#define HAVEN_POLICY_EVALUATOR_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "haven/v1/policy.pb.h"
#include "haven/base/clock.h"
#include "policy/compiled_policy.h"
#include "policy/consents.h"

namespace haven::policy {

// What is asked. The requester's agency and sector come from its verified
// certificate and the federation manifest, never from the request itself.
struct Request {
  std::string requester_agency{};
  int requester_sector = haven::v1::SECTOR_UNSPECIFIED;
  int purpose = haven::v1::PURPOSE_UNSPECIFIED;
  std::span<const int> categories{};  // haven::v1::Category values
  std::string justification{};        // required for break-glass
};

// The decision for one category, without strings.
struct CategoryResult {
  int category = 0;
  bool allowed = false;
  bool break_glass = false;
  haven::v1::DecisionReason reason = haven::v1::DECISION_REASON_UNSPECIFIED;
  int16_t rule = kNoRule;  // index into policy.rules(), or kNoRule
  int16_t consent = -1;    // index into consents.consents, or -1
};

// Used when a policy sets no min_justification_chars.
inline constexpr size_t kDefaultMinJustificationChars = 20;

// Whether `justification` can open an emergency rule of `policy`: at least
// its min_justification_chars (trimmed) and three words of two or more
// letters (any non-ASCII byte counts as a letter, so any script works).
bool IsSubstantialJustification(const CompiledPolicy& policy,
                                std::string_view justification);

// Decides every category of `request` at `now_unix` into `out` (which must
// hold request.categories.size() entries). INVALID_ARGUMENT when the purpose
// or a category is unknown or unspecified, or when a category could be
// allowed only by an emergency rule and the justification is not
// substantial (IsSubstantialJustification).
absl::Status Decide(const CompiledPolicy& policy,
                    const CompiledConsents& consents, const Request& request,
                    int64_t now_unix, std::span<CategoryResult> out);

// One sentence explaining `result` for people.
std::string Explain(const CompiledPolicy& policy,
                    const CompiledConsents& consents,
                    const CategoryResult& result);

// Evaluates requests with time from a clock. Thread-safe.
class Evaluator {
 public:
  // `clock` must outlive the evaluator.
  explicit Evaluator(const Clock* clock) : clock_(clock) {}

  absl::StatusOr<haven::v1::Decision> Evaluate(const CompiledPolicy& policy,
                                               const CompiledConsents& consents,
                                               const Request& request) const;

 private:
  const Clock* clock_;
};

}  // namespace haven::policy

#endif  // HAVEN_POLICY_EVALUATOR_H_

// The compiled evaluator against a plain reference evaluator written here,
// straight from DESIGN.md's formula, over random policies, consents and
// requests.
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "policy/compiled_policy.h"
#include "policy/consents.h"
#include "policy/evaluator.h"

namespace haven::policy {
namespace {

namespace v1 = haven::v1;

constexpr int kIterations = 100'000;
const char* const kAgencies[] = {"a0", "a1", "a2", "a3"};

struct RefResult {
  bool allowed = false;
  bool break_glass = false;
  v1::DecisionReason reason = v1::DECISION_REASON_UNSPECIFIED;
  int rule = kNoRule;
  int consent = -1;
};

template <typename T, typename V>
bool Contains(const T& list, const V& value) {
  for (const auto& x : list)
    if (x == value) return true;
  return false;
}

bool RuleMatches(const v1::Rule& r, const std::string& agency, int sector,
                 int purpose, int category) {
  bool who = Contains(r.requester().agency_ids(), agency) ||
             Contains(r.requester().sectors(), sector);
  return who && Contains(r.purposes(), purpose) &&
         Contains(r.categories(), category);
}

// Why the consent cannot be used now; UNSPECIFIED if it can.
v1::DecisionReason RefConsentReason(const v1::Consent& c, UseWindow w,
                                    int64_t now) {
  if (c.status() == v1::REVOKED) return v1::CONSENT_IS_REVOKED;
  if (c.status() == v1::PAUSED) return v1::CONSENT_IS_PAUSED;
  if (c.status() == v1::EXPIRED) return v1::CONSENT_IS_EXPIRED;
  if (now >= c.valid().until_unix()) return v1::CONSENT_IS_EXPIRED;
  if (now < c.valid().from_unix()) return v1::CONSENT_IS_NOT_YET_VALID;
  const uint32_t max = c.use_limit().max_uses();
  if (max > 0) {
    const int64_t period = c.use_limit().period_seconds();
    uint32_t used = (period > 0 && now - w.start_unix >= period) ? 0 : w.uses;
    if (used >= max) return v1::CONSENT_USE_LIMIT_REACHED;
  }
  return v1::DECISION_REASON_UNSPECIFIED;
}

int Rank(v1::DecisionReason r) {
  switch (r) {
    case v1::CONSENT_USE_LIMIT_REACHED:
      return 0;
    case v1::CONSENT_IS_PAUSED:
      return 1;
    case v1::CONSENT_IS_NOT_YET_VALID:
      return 2;
    case v1::CONSENT_IS_EXPIRED:
      return 3;
    default:
      return 4;  // revoked
  }
}

// Returns false when the request must fail (emergency without justification).
// The justification rule, written out independently: at least the
// policy's minimum (20 by default) characters without the surrounding
// blanks, and three runs of two or more letters.
bool Substantial(const v1::SharingPolicy& policy, const std::string& text) {
  const size_t min = policy.min_justification_chars() == 0
                         ? 20
                         : policy.min_justification_chars();
  const size_t first = text.find_first_not_of(" \t\n\r\f\v");
  if (first == std::string::npos) return false;
  const size_t last = text.find_last_not_of(" \t\n\r\f\v");
  if (last - first + 1 < min) return false;
  int words = 0;
  int run = 0;
  for (char c : text + " ") {
    const bool letter =
        std::isalpha(static_cast<unsigned char>(c)) || (c & 0x80) != 0;
    if (letter) {
      ++run;
    } else if (!std::isdigit(static_cast<unsigned char>(c)) && c != '\'' &&
               c != '-') {
      words += run >= 2 ? 1 : 0;
      run = 0;
    }
  }
  return words >= 3;
}

bool Reference(const v1::SharingPolicy& policy,
               const std::vector<v1::Consent>& consents,
               const std::vector<UseWindow>& windows, bool refused,
               const std::string& agency, int sector, int purpose,
               const std::vector<int>& categories,
               const std::string& justification, int64_t now,
               std::vector<RefResult>& out) {
  out.clear();
  for (int c : categories) {
    int deny = kNoRule, permit = kNoRule, permit_consent = kNoRule,
        emergency = kNoRule;
    for (int i = policy.rules_size() - 1; i >= 0; --i) {
      const v1::Rule& r = policy.rules(i);
      if (!RuleMatches(r, agency, sector, purpose, c)) continue;
      if (r.effect() == v1::DENY) deny = i;
      if (r.effect() == v1::EMERGENCY_PERMIT) emergency = i;
      if (r.effect() == v1::PERMIT && !r.requires_consent()) permit = i;
      if (r.effect() == v1::PERMIT && r.requires_consent()) permit_consent = i;
    }
    int usable = -1, unusable = -1;
    v1::DecisionReason unusable_reason = v1::NO_CONSENT;
    for (size_t i = 0; i < consents.size(); ++i) {
      const v1::Consent& k = consents[i];
      bool grants =
          k.grantee().has_agency_id()
              ? k.grantee().agency_id() == agency
              : (k.grantee().sector() != 0 && k.grantee().sector() == sector);
      if (!grants || !Contains(k.purposes(), purpose) ||
          !Contains(k.categories(), c))
        continue;
      v1::DecisionReason why = RefConsentReason(k, windows[i], now);
      if (why == v1::DECISION_REASON_UNSPECIFIED) {
        if (usable < 0) usable = static_cast<int>(i);
      } else if (unusable < 0 || Rank(why) < Rank(unusable_reason)) {
        unusable = static_cast<int>(i);
        unusable_reason = why;
      }
    }
    RefResult r;
    if (deny != kNoRule) {
      r.reason = v1::DENIED_BY_RULE;
      r.rule = deny;
    } else if (!refused && permit != kNoRule) {
      r = {true, false, v1::ALLOWED_BY_RULE, permit, -1};
    } else if (!refused && permit_consent != kNoRule && usable >= 0) {
      r = {true, false, v1::ALLOWED_BY_CONSENT, permit_consent, usable};
    } else if (emergency != kNoRule) {
      if (!Substantial(policy, justification)) return false;
      r = {true, true, v1::ALLOWED_BY_EMERGENCY, emergency, -1};
    } else if (refused && (permit != kNoRule || permit_consent != kNoRule)) {
      r.reason = v1::REFUSED_BY_SURVIVOR;
      r.rule = permit != kNoRule ? permit : permit_consent;
    } else if (permit_consent != kNoRule) {
      r.rule = permit_consent;
      r.reason = unusable >= 0 ? unusable_reason : v1::NO_CONSENT;
      r.consent = unusable;
    } else {
      r.reason = v1::NO_MATCHING_RULE;
    }
    out.push_back(r);
  }
  return true;
}

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  int Int(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  bool Chance(int percent) { return Int(1, 100) <= percent; }
  std::vector<int> Subset(int lo, int hi, int max_size) {
    std::vector<int> v;
    int n = Int(1, max_size);
    for (int i = 0; i < n; ++i) v.push_back(Int(lo, hi));
    return v;
  }

 private:
  std::mt19937_64 rng_;
};

v1::SharingPolicy RandomPolicy(Gen& g) {
  v1::SharingPolicy p;
  p.set_agency_id("holder");
  const int rules = g.Int(0, 8);
  for (int i = 0; i < rules; ++i) {
    v1::Rule* r = p.add_rules();
    r->set_name("r" + std::to_string(i));
    const int e = g.Int(0, 9);
    r->set_effect(e < 5 ? v1::PERMIT : e < 8 ? v1::DENY : v1::EMERGENCY_PERMIT);
    if (r->effect() == v1::PERMIT) r->set_requires_consent(g.Chance(60));
    if (g.Chance(75)) {
      for (int s : g.Subset(1, 4, 3))
        r->mutable_requester()->add_sectors(static_cast<v1::Sector>(s));
    }
    if (r->requester().sectors_size() == 0 || g.Chance(30)) {
      r->mutable_requester()->add_agency_ids(kAgencies[g.Int(0, 3)]);
    }
    for (int x : g.Subset(1, 4, 3))
      r->add_purposes(static_cast<v1::Purpose>(x));
    for (int x : g.Subset(1, 12, 8))
      r->add_categories(static_cast<v1::Category>(x));
  }
  return p;
}

v1::Consent RandomConsent(Gen& g, int index) {
  v1::Consent c;
  c.set_consent_id("c" + std::to_string(index));
  if (g.Chance(50)) {
    c.mutable_grantee()->set_agency_id(kAgencies[g.Int(0, 3)]);
  } else {
    c.mutable_grantee()->set_sector(static_cast<v1::Sector>(g.Int(1, 4)));
  }
  for (int x : g.Subset(1, 4, 3)) c.add_purposes(static_cast<v1::Purpose>(x));
  for (int x : g.Subset(1, 12, 8))
    c.add_categories(static_cast<v1::Category>(x));
  const int64_t from = g.Int(0, 20);
  c.mutable_valid()->set_from_unix(from);
  c.mutable_valid()->set_until_unix(from + g.Int(1, 20));
  const int s = g.Int(0, 9);
  c.set_status(s < 6   ? v1::ACTIVE
               : s < 7 ? v1::PAUSED
               : s < 9 ? v1::REVOKED
                       : v1::EXPIRED);
  if (g.Chance(40)) {
    c.mutable_use_limit()->set_max_uses(g.Int(1, 3));
    c.mutable_use_limit()->set_period_seconds(g.Int(0, 10));
  }
  return c;
}

TEST(PolicyPropertyTest, CompiledEvaluatorAgreesWithReference) {
  Gen g(0x5afe4a7b0u);
  std::vector<RefResult> expected;
  std::vector<CategoryResult> actual(8);
  int decisions = 0, allowed = 0, errors = 0;
  std::map<int, int> seen;
  for (int it = 0; it < kIterations; ++it) {
    const v1::SharingPolicy policy_proto = RandomPolicy(g);
    auto policy = CompiledPolicy::Compile(policy_proto);
    ASSERT_TRUE(policy.ok()) << policy.status();
    std::vector<v1::Consent> consents;
    std::vector<UseWindow> windows;
    CompiledConsents compiled;
    compiled.refused = g.Chance(15);
    const int n = g.Int(0, 5);
    for (int i = 0; i < n; ++i) {
      consents.push_back(RandomConsent(g, i));
      windows.push_back(
          UseWindow{static_cast<uint32_t>(g.Int(0, 4)), g.Int(0, 20)});
      compiled.consents.push_back(
          ConsentView::FromProto(consents.back(), windows.back()));
    }
    const std::string agency = kAgencies[g.Int(0, 3)];
    const int sector = g.Int(0, 4);
    const int purpose = g.Int(1, 4);
    std::vector<int> categories = g.Subset(1, 12, 8);
    const std::string justification =
        g.Chance(50) ? (g.Chance(50) ? "" : "risk to life")
                     : "credible risk to life tonight";
    const int64_t now = g.Int(0, 30);

    const bool ref_ok =
        Reference(policy_proto, consents, windows, compiled.refused, agency,
                  sector, purpose, categories, justification, now, expected);
    Request request{.requester_agency = agency,
                    .requester_sector = sector,
                    .purpose = purpose,
                    .categories = categories,
                    .justification = justification};
    absl::Status status = Decide(**policy, compiled, request, now, actual);
    ASSERT_EQ(status.ok(), ref_ok) << "iteration " << it << ": " << status;
    if (!ref_ok) {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
      ++errors;
      continue;
    }
    for (size_t i = 0; i < categories.size(); ++i) {
      const RefResult& e = expected[i];
      const CategoryResult& a = actual[i];
      ASSERT_EQ(a.category, categories[i]);
      ASSERT_EQ(a.allowed, e.allowed)
          << "iteration " << it << " category " << i;
      ASSERT_EQ(v1::DecisionReason_Name(a.reason),
                v1::DecisionReason_Name(e.reason))
          << "iteration " << it << " category " << i;
      ASSERT_EQ(a.rule, e.rule) << "iteration " << it;
      ASSERT_EQ(a.consent, e.consent) << "iteration " << it;
      ASSERT_EQ(a.break_glass, e.break_glass) << "iteration " << it;
      ++decisions;
      allowed += a.allowed;
      ++seen[a.reason];
    }
  }
  // The generator must exercise both outcomes and the error path.
  EXPECT_GT(allowed, decisions / 50);
  EXPECT_LT(allowed, decisions);
  EXPECT_GT(errors, 0);
  for (int reason :
       {v1::ALLOWED_BY_RULE, v1::ALLOWED_BY_CONSENT, v1::ALLOWED_BY_EMERGENCY,
        v1::NO_MATCHING_RULE, v1::DENIED_BY_RULE, v1::REFUSED_BY_SURVIVOR,
        v1::NO_CONSENT, v1::CONSENT_IS_EXPIRED, v1::CONSENT_IS_NOT_YET_VALID,
        v1::CONSENT_IS_PAUSED, v1::CONSENT_IS_REVOKED,
        v1::CONSENT_USE_LIMIT_REACHED}) {
    EXPECT_GT(seen[reason], 0)
        << v1::DecisionReason_Name(static_cast<v1::DecisionReason>(reason));
  }
  std::printf("property: %d category decisions, %d allowed, %d errors\n",
              decisions, allowed, errors);
}

}  // namespace
}  // namespace haven::policy

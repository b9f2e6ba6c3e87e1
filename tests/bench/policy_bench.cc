// Need-to-know decisions per second on one thread: a 50-rule policy and 20
// consents per subject, 8 categories per request. Reports category
// decisions per second (target >= 5,000,000, i.e. < 200 ns each) for the
// allocation-free Decide() path, and the full Evaluate() path that builds a
// haven.v1.Decision with explanations, with their ratio from the same run.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/testing/fake_clock.h"
#include "policy/compiled_policy.h"
#include "policy/consents.h"
#include "policy/evaluator.h"

namespace {

namespace v1 = haven::v1;
using haven::policy::CategoryResult;
using haven::policy::CompiledConsents;
using haven::policy::CompiledPolicy;
using haven::policy::ConsentView;
using haven::policy::Request;

constexpr int kRules = 50;
constexpr int kConsents = 20;
constexpr int kRequests = 64;
const char* const kAgencies[] = {"legal-aid", "legal-aid-east", "metro-pd",
                                 "safe-home", "city-clinic",    "county-cps"};
const int kSectorOf[] = {v1::LEGAL_SERVICES,  v1::LEGAL_SERVICES,
                         v1::LAW_ENFORCEMENT, v1::SHELTER,
                         v1::HEALTH,          v1::CHILD_WELFARE};

struct Fixture {
  std::shared_ptr<const CompiledPolicy> policy;
  CompiledConsents consents;
  std::vector<std::vector<int>> categories;
  std::vector<Request> requests;

  Fixture() {
    std::mt19937_64 rng(42);
    auto pick = [&](int lo, int hi) {
      return std::uniform_int_distribution<int>(lo, hi)(rng);
    };
    v1::SharingPolicy p;
    p.set_agency_id("safe-harbor");
    for (int i = 0; i < kRules; ++i) {
      v1::Rule* r = p.add_rules();
      r->set_name("rule-" + std::to_string(i));
      r->set_effect(i % 10 == 0 ? v1::DENY : v1::PERMIT);
      if (r->effect() == v1::PERMIT) r->set_requires_consent(i % 3 != 0);
      r->mutable_requester()->add_sectors(static_cast<v1::Sector>(pick(1, 7)));
      if (i % 4 == 0)
        r->mutable_requester()->add_agency_ids(kAgencies[pick(0, 5)]);
      for (int k = 0; k < 2; ++k)
        r->add_purposes(static_cast<v1::Purpose>(pick(1, 6)));
      for (int k = 0; k < 4; ++k)
        r->add_categories(static_cast<v1::Category>(pick(1, 12)));
    }
    policy = *CompiledPolicy::Compile(p);
    for (int i = 0; i < kConsents; ++i) {
      v1::Consent c;
      c.set_consent_id("consent-" + std::to_string(i));
      if (i % 2 == 0) {
        c.mutable_grantee()->set_agency_id(kAgencies[pick(0, 5)]);
      } else {
        c.mutable_grantee()->set_sector(static_cast<v1::Sector>(pick(1, 7)));
      }
      for (int k = 0; k < 2; ++k)
        c.add_purposes(static_cast<v1::Purpose>(pick(1, 6)));
      for (int k = 0; k < 5; ++k)
        c.add_categories(static_cast<v1::Category>(pick(1, 12)));
      c.mutable_valid()->set_from_unix(0);
      c.mutable_valid()->set_until_unix(i % 7 == 0 ? 500 : 2000);
      c.set_status(i % 9 == 0 ? v1::PAUSED : v1::ACTIVE);
      consents.consents.push_back(ConsentView::FromProto(c, {}));
    }
    categories.resize(kRequests);
    for (int i = 0; i < kRequests; ++i) {
      for (int k = 0; k < 8; ++k) categories[i].push_back(pick(1, 12));
      const int a = pick(0, 5);
      requests.push_back(Request{.requester_agency = kAgencies[a],
                                 .requester_sector = kSectorOf[a],
                                 .purpose = pick(1, 6),
                                 .categories = categories[i]});
    }
  }
};

const Fixture& GetFixture() {
  static const Fixture* fixture = new Fixture();
  return *fixture;
}

double g_decide_rate = 0;
double g_evaluate_rate = 0;

void BM_Decide(benchmark::State& state) {
  const Fixture& f = GetFixture();
  CategoryResult results[8];
  size_t i = 0;
  int64_t categories = 0;
  for (auto _ : state) {
    const Request& request = f.requests[i++ % kRequests];
    absl::Status s =
        haven::policy::Decide(*f.policy, f.consents, request, 1000, results);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(results);
    categories += request.categories.size();
  }
  state.counters["category_decisions_per_s"] = benchmark::Counter(
      static_cast<double>(categories), benchmark::Counter::kIsRate);
}

void BM_Evaluate(benchmark::State& state) {
  const Fixture& f = GetFixture();
  haven::FakeClock clock(1000);
  haven::policy::Evaluator evaluator(&clock);
  size_t i = 0;
  int64_t categories = 0;
  for (auto _ : state) {
    const Request& request = f.requests[i++ % kRequests];
    auto decision = evaluator.Evaluate(*f.policy, f.consents, request);
    benchmark::DoNotOptimize(decision);
    categories += request.categories.size();
  }
  state.counters["category_decisions_per_s"] = benchmark::Counter(
      static_cast<double>(categories), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_Decide);
BENCHMARK(BM_Evaluate);

// Captures the rates so main can print the one-line summary.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      auto it = run.counters.find("category_decisions_per_s");
      if (it == run.counters.end()) continue;
      // kIsRate counters are finalised by the time they are reported.
      const double rate = it->second.value;
      if (run.benchmark_name().find("BM_Decide") == 0) g_decide_rate = rate;
      if (run.benchmark_name().find("BM_Evaluate") == 0) g_evaluate_rate = rate;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  std::printf(
      "policy: %.0f category decisions/s (target >= 5,000,000), %.1f ns each; "
      "%d rules, %d consents per subject, 8 categories per request\n",
      g_decide_rate, g_decide_rate > 0 ? 1e9 / g_decide_rate : 0.0, kRules,
      kConsents);
  if (g_evaluate_rate > 0) {
    std::printf(
        "policy: with haven.v1.Decision and explanations: %.0f category "
        "decisions/s (Decide/Evaluate ratio %.1fx)\n",
        g_evaluate_rate, g_decide_rate / g_evaluate_rate);
  }
  return 0;
}

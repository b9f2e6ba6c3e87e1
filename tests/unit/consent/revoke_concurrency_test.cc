// Many threads decide while another revokes: every decision that began after
// Revoke returned must be a denial.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "policy/compiled_policy.h"
#include "policy/evaluator.h"
#include "policy/loader.h"
#include "server/consent/consent_registry.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/consent/registry_fixture.h"
#include "tests/testing/fake_clock.h"

namespace haven::server::consent {
namespace {

using haven::testing::IsOk;
namespace v1 = haven::v1;

TEST(RevokeConcurrencyTest, NoDecisionAfterRevokeReturnsUsesTheConsent) {
  auto loaded = policy::LoadPolicyFile(
      std::string(HAVEN_SOURCE_DIR) + "/policy/examples/safe-harbor.textproto");
  ASSERT_THAT(loaded, IsOk());
  auto compiled = policy::CompiledPolicy::Compile(loaded->policy);
  ASSERT_THAT(compiled, IsOk());
  const std::shared_ptr<const policy::CompiledPolicy> policy = *compiled;

  auto harness = testing::RegistryHarness::Create();
  ASSERT_THAT(harness, IsOk());
  ConsentRegistry* registry = &(*harness)->registry();
  FakeClock& clock = (*harness)->log().clock();

  constexpr int kRounds = 20;
  constexpr int kDeciders = 8;
  constexpr int kDecisionsAfterRevoke = 200;
  std::atomic<int> violations{0};
  std::atomic<long> allowed_before{0};
  std::atomic<long> decided_after{0};

  for (int round = 0; round < kRounds; ++round) {
    const std::string subject = absl::StrCat("5ab1ec7000000000000000000000",
                                             absl::Hex(round, absl::kZeroPad4));
    auto receipt = registry->Record(testing::LegalAidTerms(subject), "adv");
    ASSERT_THAT(receipt, IsOk());
    const std::string id = receipt->consent().consent_id();

    std::atomic<bool> revoked{false};
    std::atomic<int> started{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kDeciders; ++t) {
      threads.emplace_back([&] {
        const int categories[] = {v1::LEGAL, v1::IMMIGRATION};
        policy::CategoryResult results[2];
        int after = 0;
        // Bounded: stops once enough post-revoke decisions were checked.
        for (long i = 0; i < 10'000'000 && after < kDecisionsAfterRevoke; ++i) {
          const bool began_after_revoke =
              revoked.load(std::memory_order_acquire);
          auto snapshot = registry->Snapshot(subject);
          absl::Status s =
              policy::Decide(*policy, *snapshot,
                             {.requester_agency = "legal-aid",
                              .requester_sector = v1::LEGAL_SERVICES,
                              .purpose = v1::LEGAL_REPRESENTATION,
                              .categories = categories},
                             clock.NowUnix(), results);
          if (!s.ok()) {
            violations.fetch_add(1);
            continue;
          }
          started.fetch_add(1, std::memory_order_relaxed);
          if (began_after_revoke) {
            ++after;
            decided_after.fetch_add(1, std::memory_order_relaxed);
            if (results[0].allowed || results[1].allowed)
              violations.fetch_add(1);
          } else if (results[0].allowed) {
            allowed_before.fetch_add(1, std::memory_order_relaxed);
          }
        }
      });
    }
    // Let the deciders get going, then revoke while they run.
    for (int spin = 0; spin < 1'000'000 && started.load() < kDeciders * 10;
         ++spin) {
      std::this_thread::yield();
    }
    ASSERT_THAT(registry->Revoke(id, "survivor asked", "adv"), IsOk());
    revoked.store(true, std::memory_order_release);
    for (auto& t : threads) t.join();
  }
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(decided_after.load(),
            long{kRounds} * kDeciders * kDecisionsAfterRevoke);
  EXPECT_GT(allowed_before.load(), 0);
}

}  // namespace
}  // namespace haven::server::consent

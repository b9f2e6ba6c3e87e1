#include "server/consent/consent_registry.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/compiled_policy.h"
#include "policy/evaluator.h"
#include "policy/loader.h"
#include "server/consent/receipt.h"
#include "server/storage/database.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/unit/consent/registry_fixture.h"

namespace haven::server::consent {
namespace {

using haven::testing::IsOk;
using haven::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
namespace v1 = haven::v1;

constexpr char kSubject[] = "subj-4b1e9c";

class ConsentRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto registry = ConsentRegistry::Create({.store = &store_,
                                             .clock = &clock_,
                                             .signer = signer_.get(),
                                             .issuer = "safe-harbor"});
    ASSERT_THAT(registry, IsOk());
    registry_ = *std::move(registry);
  }

  std::string RecordLegalAid() {
    auto receipt = registry_->Record(testing::LegalAidTerms(kSubject), "adv-1");
    EXPECT_THAT(receipt, IsOk());
    return receipt.ok() ? receipt->consent().consent_id() : "";
  }

  // Legal aid asking for LEGAL under Safe Harbor's example policy.
  bool LegalAidMayHaveLegal() {
    auto loaded =
        policy::LoadPolicyFile(std::string(HAVEN_SOURCE_DIR) +
                               "/policy/examples/safe-harbor.textproto");
    EXPECT_THAT(loaded, IsOk());
    auto compiled = policy::CompiledPolicy::Compile(loaded->policy);
    const int categories[] = {v1::LEGAL};
    policy::CategoryResult result;
    EXPECT_THAT(policy::Decide(**compiled, *registry_->Snapshot(kSubject),
                               {.requester_agency = "legal-aid",
                                .requester_sector = v1::LEGAL_SERVICES,
                                .purpose = v1::LEGAL_REPRESENTATION,
                                .categories = categories},
                               clock_.NowUnix(), {&result, 1}),
                IsOk());
    return result.allowed;
  }

  MemoryConsentStore store_;
  policy::FakeClock clock_{testing::kNow};
  std::unique_ptr<crypto::Ed25519Signer> signer_ = testing::TestSigner();
  std::unique_ptr<ConsentRegistry> registry_;
};

TEST_F(ConsentRegistryTest, RecordReturnsAVerifiableReceipt) {
  auto receipt = registry_->Record(testing::LegalAidTerms(kSubject), "adv-1");
  ASSERT_THAT(receipt, IsOk());
  const v1::Consent& c = receipt->consent();
  EXPECT_EQ(c.consent_id().size(), 32u);
  EXPECT_EQ(c.consent_id().find_first_not_of("0123456789abcdef"),
            std::string::npos);
  EXPECT_EQ(c.version(), 1u);
  EXPECT_EQ(c.status(), v1::ACTIVE);
  EXPECT_EQ(c.recorded_by(), "adv-1");
  EXPECT_EQ(c.recorded_unix(), testing::kNow);
  EXPECT_THAT(VerifyReceipt(*receipt, signer_->public_key()), IsOk());
  EXPECT_TRUE(LegalAidMayHaveLegal());
}

TEST_F(ConsentRegistryTest,
       IncompleteTermsAreInvalidArgumentWithoutPersonalData) {
  struct Bad {
    const char* what;
    void (*mutate)(v1::Consent&);
  };
  const Bad bad[] = {
      {"no subject", [](v1::Consent& c) { c.clear_subject_id(); }},
      {"no grantee", [](v1::Consent& c) { c.clear_grantee(); }},
      {"empty agency",
       [](v1::Consent& c) { c.mutable_grantee()->set_agency_id(""); }},
      {"unspecified sector",
       [](v1::Consent& c) {
         c.mutable_grantee()->set_sector(v1::SECTOR_UNSPECIFIED);
       }},
      {"no purposes", [](v1::Consent& c) { c.clear_purposes(); }},
      {"unspecified purpose",
       [](v1::Consent& c) { c.add_purposes(v1::PURPOSE_UNSPECIFIED); }},
      {"no categories", [](v1::Consent& c) { c.clear_categories(); }},
      {"unknown category",
       [](v1::Consent& c) { c.add_categories(static_cast<v1::Category>(77)); }},
      {"until before from",
       [](v1::Consent& c) {
         c.mutable_valid()->set_until_unix(c.valid().from_unix());
       }},
      {"no until",
       [](v1::Consent& c) { c.mutable_valid()->clear_until_unix(); }},
      {"negative data life",
       [](v1::Consent& c) { c.set_data_life_seconds(-1); }},
      {"short evidence", [](v1::Consent& c) { c.set_evidence_sha256("abc"); }},
  };
  for (const Bad& b : bad) {
    v1::Consent terms = testing::LegalAidTerms(kSubject);
    b.mutate(terms);
    auto receipt = registry_->Record(terms, "adv-1");
    EXPECT_THAT(receipt, StatusIs(absl::StatusCode::kInvalidArgument))
        << b.what;
    EXPECT_THAT(std::string(receipt.status().message()),
                Not(HasSubstr(kSubject)));
  }
  EXPECT_EQ(registry_->List(kSubject).consents_size(), 0);
}

TEST_F(ConsentRegistryTest, AmendKeepsHistory) {
  const std::string id = RecordLegalAid();
  clock_.Advance(100);
  v1::Consent terms = testing::LegalAidTerms("ignored-subject");
  terms.clear_categories();
  terms.add_categories(v1::CONTACT);
  auto amended = registry_->Amend(id, terms, "adv-2");
  ASSERT_THAT(amended, IsOk());
  EXPECT_EQ(amended->consent().version(), 2u);
  EXPECT_EQ(amended->consent().subject_id(), kSubject);
  auto history = registry_->Get(id);
  ASSERT_THAT(history, IsOk());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].categories_size(), 3);
  EXPECT_EQ((*history)[0].recorded_by(), "adv-1");
  EXPECT_EQ((*history)[1].categories_size(), 1);
  EXPECT_EQ((*history)[1].recorded_unix(), testing::kNow + 100);
  EXPECT_FALSE(LegalAidMayHaveLegal());
}

TEST_F(ConsentRegistryTest, StatusTransitions) {
  const std::string id = RecordLegalAid();
  EXPECT_THAT(registry_->Resume(id, "adv"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(registry_->Pause(id, "", "adv"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(registry_->Pause(id, "survivor travelling", "adv"), IsOk());
  EXPECT_FALSE(LegalAidMayHaveLegal());
  EXPECT_THAT(registry_->Pause(id, "again", "adv"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(registry_->Resume(id, "adv"), IsOk());
  EXPECT_TRUE(LegalAidMayHaveLegal());
  EXPECT_THAT(registry_->Revoke(id, "", "adv"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto revoked = registry_->Revoke(id, "survivor asked", "adv");
  ASSERT_THAT(revoked, IsOk());
  EXPECT_EQ(revoked->consent().status(), v1::REVOKED);
  EXPECT_EQ(revoked->consent().status_reason(), "survivor asked");
  EXPECT_THAT(VerifyReceipt(*revoked, signer_->public_key()), IsOk());
  EXPECT_FALSE(LegalAidMayHaveLegal());
  EXPECT_THAT(registry_->Resume(id, "adv"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(registry_->Revoke(id, "twice", "adv"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(registry_->Amend(id, testing::LegalAidTerms(kSubject), "adv"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  auto history = registry_->Get(id);
  ASSERT_THAT(history, IsOk());
  ASSERT_EQ(history->size(), 4u);  // record, pause, resume, revoke
  EXPECT_EQ((*history)[1].status(), v1::PAUSED);
  EXPECT_EQ((*history)[2].status(), v1::ACTIVE);
  EXPECT_EQ((*history)[3].status(), v1::REVOKED);
}

TEST_F(ConsentRegistryTest, UnknownIdsAreNotFound) {
  EXPECT_THAT(registry_->Get("ffff"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(registry_->Pause("ffff", "r", "a"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(registry_->Resume("ffff", "a"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(registry_->Revoke("ffff", "r", "a"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(registry_->Amend("ffff", testing::LegalAidTerms(kSubject), "a"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(registry_->LiftRefusal("ffff", "a"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(registry_->ConsumeUses({"ffff"}, 1),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ConsentRegistryTest, RefusalOverridesConsentUntilLifted) {
  RecordLegalAid();
  EXPECT_TRUE(LegalAidMayHaveLegal());
  auto refusal = registry_->RecordRefusal(kSubject, "", "adv");
  ASSERT_THAT(refusal, IsOk());
  EXPECT_TRUE(refusal->active());
  EXPECT_FALSE(LegalAidMayHaveLegal());
  auto lifted = registry_->LiftRefusal(refusal->refusal_id(), "adv");
  ASSERT_THAT(lifted, IsOk());
  EXPECT_FALSE(lifted->active());
  EXPECT_EQ(lifted->lifted_unix(), testing::kNow);
  EXPECT_TRUE(LegalAidMayHaveLegal());
  EXPECT_THAT(registry_->LiftRefusal(refusal->refusal_id(), "adv"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(registry_->List(kSubject).refusals_size(), 1);
  EXPECT_THAT(registry_->RecordRefusal("", "", "adv"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ConsentRegistryTest, UseLimitCountsUsesAndResetsEachPeriod) {
  v1::Consent terms = testing::LegalAidTerms(kSubject);
  terms.mutable_use_limit()->set_max_uses(2);
  terms.mutable_use_limit()->set_period_seconds(3600);
  auto receipt = registry_->Record(terms, "adv");
  ASSERT_THAT(receipt, IsOk());
  const std::string id = receipt->consent().consent_id();
  ASSERT_THAT(registry_->ConsumeUses({id}, clock_.NowUnix()), IsOk());
  EXPECT_TRUE(LegalAidMayHaveLegal());
  ASSERT_THAT(registry_->ConsumeUses({id}, clock_.NowUnix()), IsOk());
  EXPECT_FALSE(LegalAidMayHaveLegal());
  EXPECT_THAT(registry_->ConsumeUses({id}, clock_.NowUnix()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("CONSENT_USE_LIMIT_REACHED")));
  auto history = registry_->Get(id);
  ASSERT_THAT(history, IsOk());
  EXPECT_EQ(history->back().use_count(), 2u);
  EXPECT_EQ(history->back().last_used_unix(), testing::kNow);
  clock_.Advance(3600);
  EXPECT_TRUE(LegalAidMayHaveLegal());
}

// Many requests decided at once against a consent with two uses left: the
// uses are taken one at a time, so exactly two get through.
TEST_F(ConsentRegistryTest, ConcurrentUsesNeverExceedTheLimit) {
  v1::Consent terms = testing::LegalAidTerms(kSubject);
  terms.mutable_use_limit()->set_max_uses(2);
  auto receipt = registry_->Record(terms, "adv");
  ASSERT_THAT(receipt, IsOk());
  const std::string id = receipt->consent().consent_id();
  constexpr int kThreads = 16;
  std::atomic<int> granted{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      absl::Status s = registry_->ConsumeUses({id}, clock_.NowUnix()).status();
      if (s.ok()) ++granted;
      if (s.code() == absl::StatusCode::kFailedPrecondition) ++refused;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 2);
  EXPECT_EQ(refused.load(), kThreads - 2);
  auto history = registry_->Get(id);
  ASSERT_THAT(history, IsOk());
  EXPECT_EQ(history->back().use_count(), 2u);
}

TEST_F(ConsentRegistryTest, ReturnedUseCanBeTakenAgain) {
  v1::Consent terms = testing::LegalAidTerms(kSubject);
  terms.mutable_use_limit()->set_max_uses(1);
  auto receipt = registry_->Record(terms, "adv");
  ASSERT_THAT(receipt, IsOk());
  const std::string id = receipt->consent().consent_id();
  auto taken = registry_->ConsumeUses({id}, clock_.NowUnix());
  ASSERT_THAT(taken, IsOk());
  EXPECT_FALSE(LegalAidMayHaveLegal());
  ASSERT_THAT(registry_->ReturnUses(*taken), IsOk());
  EXPECT_TRUE(LegalAidMayHaveLegal());
  EXPECT_EQ(registry_->Get(id)->back().use_count(), 0u);
  EXPECT_THAT(registry_->ConsumeUses({id}, clock_.NowUnix()), IsOk());
}

TEST_F(ConsentRegistryTest, UsesOfARevokedConsentAreRefusedAllOrNone) {
  auto kept = registry_->Record(testing::LegalAidTerms(kSubject), "adv");
  auto revoked = registry_->Record(testing::LegalAidTerms(kSubject), "adv");
  ASSERT_THAT(kept, IsOk());
  ASSERT_THAT(revoked, IsOk());
  const std::string kept_id = kept->consent().consent_id();
  const std::string revoked_id = revoked->consent().consent_id();
  ASSERT_THAT(registry_->Revoke(revoked_id, "asked", "adv"), IsOk());
  EXPECT_THAT(registry_->ConsumeUses({kept_id, revoked_id}, clock_.NowUnix()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("CONSENT_IS_REVOKED")));
  auto history = registry_->Get(kept_id);
  ASSERT_THAT(history, IsOk());
  EXPECT_EQ(history->back().use_count(), 0u);
}

// A failed store write is reported; the use stays counted (refusing more,
// never less) and reaches the store with the next successful write.
TEST_F(ConsentRegistryTest, FailedUseWriteIsReportedAndRetriedLater) {
  v1::Consent terms = testing::LegalAidTerms(kSubject);
  auto receipt = registry_->Record(terms, "adv");
  ASSERT_THAT(receipt, IsOk());
  const std::string id = receipt->consent().consent_id();
  store_.set_fail_writes(true);
  EXPECT_THAT(registry_->ConsumeUses({id}, clock_.NowUnix()),
              StatusIs(absl::StatusCode::kUnavailable));
  store_.set_fail_writes(false);
  ASSERT_THAT(registry_->ConsumeUses({id}, clock_.NowUnix()), IsOk());
  auto reloaded = ConsentRegistry::Create({.store = &store_,
                                           .clock = &clock_,
                                           .signer = signer_.get(),
                                           .issuer = "safe-harbor"});
  ASSERT_THAT(reloaded, IsOk());
  auto history = (*reloaded)->Get(id);
  ASSERT_THAT(history, IsOk());
  EXPECT_EQ(history->back().use_count(), 2u);
}

TEST_F(ConsentRegistryTest, ListShowsExpiredOnceValidityEnds) {
  const std::string id = RecordLegalAid();
  clock_.Set(testing::kNow + 30 * 86400);
  auto list = registry_->List(kSubject);
  ASSERT_EQ(list.consents_size(), 1);
  EXPECT_EQ(list.consents(0).status(), v1::EXPIRED);
  EXPECT_FALSE(LegalAidMayHaveLegal());
  EXPECT_EQ(registry_->List("someone-else").consents_size(), 0);
}

TEST_F(ConsentRegistryTest, FailedWriteChangesNothing) {
  const std::string id = RecordLegalAid();
  store_.set_fail_writes(true);
  EXPECT_THAT(registry_->Revoke(id, "survivor asked", "adv"),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(registry_->Record(testing::LegalAidTerms(kSubject), "adv"),
              StatusIs(absl::StatusCode::kUnavailable));
  store_.set_fail_writes(false);
  EXPECT_EQ(registry_->Get(id)->size(), 1u);
  EXPECT_EQ(registry_->List(kSubject).consents_size(), 1);
  EXPECT_TRUE(LegalAidMayHaveLegal());
}

TEST(ConsentRegistryPersistenceTest, SurvivesReopenOfARealDatabase) {
  haven::testing::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  policy::FakeClock clock(testing::kNow);
  auto signer = testing::TestSigner();
  std::string kept, revoked, refusal;
  {
    storage::Database::Options options;
    options.path = dir.Join("db");
    auto db = storage::Database::Open(std::move(options));
    ASSERT_THAT(db, IsOk());
    RocksDbConsentStore store(db->get());
    auto registry = ConsentRegistry::Create({.store = &store,
                                             .clock = &clock,
                                             .signer = signer.get(),
                                             .issuer = "safe-harbor"});
    ASSERT_THAT(registry, IsOk());
    kept = (*registry)
               ->Record(testing::LegalAidTerms(kSubject), "adv")
               ->consent()
               .consent_id();
    revoked = (*registry)
                  ->Record(testing::LegalAidTerms(kSubject), "adv")
                  ->consent()
                  .consent_id();
    ASSERT_THAT(
        (*registry)->Amend(kept, testing::LegalAidTerms(kSubject), "adv"),
        IsOk());
    ASSERT_THAT((*registry)->Revoke(revoked, "asked", "adv"), IsOk());
    ASSERT_THAT((*registry)->ConsumeUses({kept}, testing::kNow), IsOk());
    refusal =
        (*registry)->RecordRefusal("other-subject", "", "adv")->refusal_id();
  }
  storage::Database::Options options;
  options.path = dir.Join("db");
  auto db = storage::Database::Open(std::move(options));
  ASSERT_THAT(db, IsOk());
  RocksDbConsentStore store(db->get());
  auto registry = ConsentRegistry::Create({.store = &store,
                                           .clock = &clock,
                                           .signer = signer.get(),
                                           .issuer = "safe-harbor"});
  ASSERT_THAT(registry, IsOk());
  auto history = (*registry)->Get(kept);
  ASSERT_THAT(history, IsOk());
  EXPECT_EQ(history->size(), 2u);
  EXPECT_EQ(history->back().use_count(), 1u);
  auto revoked_history = (*registry)->Get(revoked);
  ASSERT_THAT(revoked_history, IsOk());
  EXPECT_EQ(revoked_history->back().status(), v1::REVOKED);
  EXPECT_EQ((*registry)->List(kSubject).consents_size(), 2);
  EXPECT_EQ((*registry)->Snapshot(kSubject)->consents.size(), 2u);
  EXPECT_TRUE((*registry)->Snapshot("other-subject")->refused);
  EXPECT_FALSE((*registry)->Snapshot(kSubject)->refused);
}

}  // namespace
}  // namespace haven::server::consent

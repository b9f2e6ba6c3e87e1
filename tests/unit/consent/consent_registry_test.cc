#include "server/consent/consent_registry.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/compiled_policy.h"
#include "policy/evaluator.h"
#include "policy/loader.h"
#include "server/consent/receipt.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/consent/registry_fixture.h"
#include "tests/testing/fake_clock.h"

namespace haven::server::consent {
namespace {

using haven::testing::IsOk;
using haven::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
namespace v1 = haven::v1;

constexpr char kSubject[] = "4b1e9c0000000000000000000000a001";
constexpr char kOtherSubject[] = "4b1e9c0000000000000000000000b002";

class ConsentRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto harness = testing::RegistryHarness::Create();
    ASSERT_THAT(harness, IsOk());
    h_ = *std::move(harness);
  }
  ConsentRegistry& registry() { return h_->registry(); }
  FakeClock& clock() { return h_->log().clock(); }
  uint64_t LogSize() { return h_->log().log().Size(); }

  std::string RecordLegalAid() {
    auto receipt = registry().Record(testing::LegalAidTerms(kSubject), "adv-1");
    EXPECT_THAT(receipt, IsOk());
    return receipt.ok() ? receipt->consent().consent_id() : "";
  }

  // The newest audit entry.
  v1::AuditEntry LastEntry() {
    auto entries = h_->log().log().GetEntries(LogSize() - 1, 1);
    EXPECT_THAT(entries, IsOk());
    return entries.ok() && !entries->empty() ? (*entries)[0].entry()
                                             : v1::AuditEntry();
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
    EXPECT_THAT(policy::Decide(**compiled, *registry().Snapshot(kSubject),
                               {.requester_agency = "legal-aid",
                                .requester_sector = v1::LEGAL_SERVICES,
                                .purpose = v1::LEGAL_REPRESENTATION,
                                .categories = categories},
                               clock().NowUnix(), {&result, 1}),
                IsOk());
    return result.allowed;
  }

  std::unique_ptr<testing::RegistryHarness> h_;
};

TEST_F(ConsentRegistryTest, RecordReturnsAVerifiableReceipt) {
  auto receipt = registry().Record(testing::LegalAidTerms(kSubject), "adv-1");
  ASSERT_THAT(receipt, IsOk());
  const v1::Consent& c = receipt->consent();
  EXPECT_EQ(c.consent_id().size(), 32u);
  EXPECT_EQ(c.consent_id().find_first_not_of("0123456789abcdef"),
            std::string::npos);
  EXPECT_EQ(c.version(), 1u);
  EXPECT_EQ(c.status(), v1::ACTIVE);
  EXPECT_EQ(c.recorded_by(), "adv-1");
  EXPECT_EQ(c.recorded_unix(), testing::kNow);
  EXPECT_THAT(VerifyReceipt(*receipt, h_->log().signer().public_key()), IsOk());
  EXPECT_TRUE(LegalAidMayHaveLegal());
}

// One change, one commit: the consent and its entry arrive together, the
// entry naming the consent, its version and the terms recorded.
TEST_F(ConsentRegistryTest, EachChangeIsOneCommitWithItsEntry) {
  const uint64_t before = LogSize();
  const int64_t commits = h_->log().log().batches();
  const std::string id = RecordLegalAid();
  EXPECT_EQ(LogSize(), before + 1);
  EXPECT_EQ(h_->log().log().batches(), commits + 1);
  v1::AuditEntry entry = LastEntry();
  EXPECT_EQ(entry.kind(), v1::CONSENT_RECORDED);
  ASSERT_EQ(entry.consent_ids_size(), 1);
  EXPECT_EQ(entry.consent_ids(0), id);
  EXPECT_EQ(entry.consent_version(), 1u);
  EXPECT_EQ(entry.principal(), "adv-1");
  EXPECT_THAT(entry.detail(), HasSubstr("grantee agency legal-aid"));
  EXPECT_FALSE(entry.subject_pseudonym().empty());
  EXPECT_THAT(entry.SerializeAsString(), Not(HasSubstr(kSubject)));

  ASSERT_THAT(registry().Revoke(id, "survivor asked", "adv-2"), IsOk());
  entry = LastEntry();
  EXPECT_EQ(entry.kind(), v1::CONSENT_REVOKED);
  EXPECT_EQ(entry.consent_version(), 2u);
  EXPECT_EQ(entry.justification(), "survivor asked");
  EXPECT_EQ(entry.principal(), "adv-2");
}

TEST_F(ConsentRegistryTest,
       IncompleteTermsAreInvalidArgumentWithoutPersonalData) {
  struct Bad {
    const char* what;
    void (*mutate)(v1::Consent&);
  };
  const Bad bad[] = {
      {"no subject", [](v1::Consent& c) { c.clear_subject_id(); }},
      {"subject not an id",
       [](v1::Consent& c) { c.set_subject_id("Jane Doe, 12 Elm St"); }},
      {"no grantee", [](v1::Consent& c) { c.clear_grantee(); }},
      {"empty agency",
       [](v1::Consent& c) { c.mutable_grantee()->set_agency_id(""); }},
      {"agency not an id",
       [](v1::Consent& c) {
         c.mutable_grantee()->set_agency_id("Legal Aid!");
       }},
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
      {"too many categories",
       [](v1::Consent& c) {
         for (int i = 0; i < 40; ++i) c.add_categories(v1::CONTACT);
       }},
      {"until before from",
       [](v1::Consent& c) {
         c.mutable_valid()->set_until_unix(c.valid().from_unix());
       }},
      {"no until",
       [](v1::Consent& c) { c.mutable_valid()->clear_until_unix(); }},
      {"already ended",
       [](v1::Consent& c) {
         c.mutable_valid()->set_from_unix(testing::kNow - 7200);
         c.mutable_valid()->set_until_unix(testing::kNow - 3600);
       }},
      {"negative data life",
       [](v1::Consent& c) { c.set_data_life_seconds(-1); }},
      {"short evidence", [](v1::Consent& c) { c.set_evidence_sha256("abc"); }},
  };
  const uint64_t log_size = LogSize();
  for (const Bad& b : bad) {
    v1::Consent terms = testing::LegalAidTerms(kSubject);
    b.mutate(terms);
    auto receipt = registry().Record(terms, "adv-1");
    EXPECT_THAT(receipt, StatusIs(absl::StatusCode::kInvalidArgument))
        << b.what;
    EXPECT_THAT(std::string(receipt.status().message()),
                Not(HasSubstr(kSubject)));
    EXPECT_THAT(std::string(receipt.status().message()),
                Not(HasSubstr("Jane")));
  }
  EXPECT_EQ(registry().List(kSubject).consents_size(), 0);
  // A refused change is not logged.
  EXPECT_EQ(LogSize(), log_size);
}

TEST(ConsentRegistryChecksTest, GranteeAndSubjectAreCheckedBeforeAnything) {
  auto log = haven::testing::TestLog::Create();
  ASSERT_THAT(log, IsOk());
  ConsentRegistry::Options options;
  options.storage = &(*log)->storage();
  options.audit = &(*log)->recorder();
  options.sealer = &(*log)->sealer();
  options.clock = &(*log)->clock();
  options.signer = &(*log)->signer();
  options.check_grantee = [](const v1::Grantee& g) {
    return g.agency_id() == "legal-aid"
               ? absl::OkStatus()
               : absl::InvalidArgumentError("not a member");
  };
  options.check_subject = [](absl::string_view id) {
    return id == kSubject ? absl::OkStatus()
                          : absl::NotFoundError("no such subject");
  };
  auto registry = ConsentRegistry::Create(std::move(options));
  ASSERT_THAT(registry, IsOk());
  v1::Consent stranger = testing::LegalAidTerms(kSubject);
  stranger.mutable_grantee()->set_agency_id("bogus-agency");
  EXPECT_THAT((*registry)->Record(stranger, "adv"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT((*registry)->Record(testing::LegalAidTerms(kOtherSubject), "adv"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT((*registry)->RecordRefusal(kOtherSubject, "", "adv"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ((*log)->log().Size(), 0u);
  EXPECT_THAT((*registry)->Record(testing::LegalAidTerms(kSubject), "adv"),
              IsOk());
}

TEST_F(ConsentRegistryTest, AmendKeepsHistoryAndLogsTheNewTerms) {
  const std::string id = RecordLegalAid();
  clock().Advance(100);
  v1::Consent terms = testing::LegalAidTerms(kOtherSubject);  // ignored
  terms.clear_categories();
  terms.add_categories(v1::CONTACT);
  auto amended = registry().Amend(id, terms, "adv-2");
  ASSERT_THAT(amended, IsOk());
  EXPECT_EQ(amended->consent().version(), 2u);
  EXPECT_EQ(amended->consent().subject_id(), kSubject);
  auto history = registry().Get(id);
  ASSERT_THAT(history, IsOk());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].categories_size(), 3);
  EXPECT_EQ((*history)[0].recorded_by(), "adv-1");
  EXPECT_EQ((*history)[1].categories_size(), 1);
  EXPECT_EQ((*history)[1].recorded_unix(), testing::kNow + 100);
  EXPECT_FALSE(LegalAidMayHaveLegal());
  v1::AuditEntry entry = LastEntry();
  EXPECT_EQ(entry.kind(), v1::CONSENT_AMENDED);
  EXPECT_EQ(entry.consent_version(), 2u);
  ASSERT_EQ(entry.asked_size(), 1);  // the new terms, not the old
  EXPECT_EQ(entry.asked(0), v1::CONTACT);
  EXPECT_THAT(entry.detail(), HasSubstr("changed: categories"));
}

TEST_F(ConsentRegistryTest, StatusTransitionsAndRefusedOnesAreNotLogged) {
  const std::string id = RecordLegalAid();
  EXPECT_THAT(registry().Resume(id, "adv"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(registry().Pause(id, "", "adv"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(registry().Pause(id, " ", "adv"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(registry().Pause(id, "line\nforged=1", "adv"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(registry().Pause(id, "survivor travelling", "adv"), IsOk());
  EXPECT_FALSE(LegalAidMayHaveLegal());
  EXPECT_THAT(registry().Pause(id, "again", "adv"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(registry().Resume(id, "adv"), IsOk());
  EXPECT_TRUE(LegalAidMayHaveLegal());
  EXPECT_THAT(registry().Revoke(id, "", "adv"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto revoked = registry().Revoke(id, "survivor asked", "adv");
  ASSERT_THAT(revoked, IsOk());
  EXPECT_EQ(revoked->consent().status(), v1::REVOKED);
  EXPECT_EQ(revoked->consent().status_reason(), "survivor asked");
  EXPECT_THAT(VerifyReceipt(*revoked, h_->log().signer().public_key()), IsOk());
  EXPECT_FALSE(LegalAidMayHaveLegal());
  const uint64_t log_size = LogSize();
  EXPECT_THAT(registry().Resume(id, "adv"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(registry().Revoke(id, "twice", "adv"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(registry().Amend(id, testing::LegalAidTerms(kSubject), "adv"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(LogSize(), log_size);
  auto history = registry().Get(id);
  ASSERT_THAT(history, IsOk());
  ASSERT_EQ(history->size(), 4u);  // record, pause, resume, revoke
  EXPECT_EQ((*history)[1].status(), v1::PAUSED);
  EXPECT_EQ((*history)[2].status(), v1::ACTIVE);
  EXPECT_EQ((*history)[3].status(), v1::REVOKED);
}

TEST_F(ConsentRegistryTest, UnknownIdsAreNotFound) {
  EXPECT_THAT(registry().Get("ffff"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(registry().Pause("ffff", "r", "a"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(registry().Resume("ffff", "a"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(registry().Revoke("ffff", "r", "a"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(registry().Amend("ffff", testing::LegalAidTerms(kSubject), "a"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(registry().LiftRefusal("ffff", "a"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(h_->Claim(kSubject, {"ffff"}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(ConsentRegistryTest, RefusalOverridesConsentUntilLifted) {
  RecordLegalAid();
  EXPECT_TRUE(LegalAidMayHaveLegal());
  auto refusal = registry().RecordRefusal(kSubject, "", "adv");
  ASSERT_THAT(refusal, IsOk());
  EXPECT_TRUE(refusal->active());
  EXPECT_EQ(LastEntry().kind(), v1::REFUSAL_RECORDED);
  EXPECT_FALSE(LegalAidMayHaveLegal());
  auto lifted = registry().LiftRefusal(refusal->refusal_id(), "adv-2");
  ASSERT_THAT(lifted, IsOk());
  EXPECT_FALSE(lifted->active());
  EXPECT_EQ(lifted->lifted_unix(), testing::kNow);
  EXPECT_EQ(lifted->recorded_by(), "adv");
  EXPECT_EQ(LastEntry().kind(), v1::REFUSAL_LIFTED);
  EXPECT_EQ(LastEntry().principal(), "adv-2");
  EXPECT_TRUE(LegalAidMayHaveLegal());
  EXPECT_THAT(registry().LiftRefusal(refusal->refusal_id(), "adv"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(registry().List(kSubject).refusals_size(), 1);
  EXPECT_THAT(registry().RecordRefusal("", "", "adv"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ConsentRegistryTest, UseLimitCountsUsesAndResetsEachPeriod) {
  v1::Consent terms = testing::LegalAidTerms(kSubject);
  terms.mutable_use_limit()->set_max_uses(2);
  terms.mutable_use_limit()->set_period_seconds(3600);
  auto receipt = registry().Record(terms, "adv");
  ASSERT_THAT(receipt, IsOk());
  const std::string id = receipt->consent().consent_id();
  ASSERT_THAT(h_->Claim(kSubject, {id}), IsOk());
  EXPECT_TRUE(LegalAidMayHaveLegal());
  ASSERT_THAT(h_->Claim(kSubject, {id}), IsOk());
  EXPECT_FALSE(LegalAidMayHaveLegal());
  EXPECT_THAT(h_->Claim(kSubject, {id}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("CONSENT_USE_LIMIT_REACHED")));
  auto history = registry().Get(id);
  ASSERT_THAT(history, IsOk());
  EXPECT_EQ(history->back().use_count(), 2u);
  EXPECT_EQ(history->back().last_used_unix(), testing::kNow);
  clock().Advance(3600);
  EXPECT_TRUE(LegalAidMayHaveLegal());
}

// Many requests decided at once against a consent with two uses left: the
// uses are taken one at a time, so exactly two get through.
TEST_F(ConsentRegistryTest, ConcurrentUsesNeverExceedTheLimit) {
  v1::Consent terms = testing::LegalAidTerms(kSubject);
  terms.mutable_use_limit()->set_max_uses(2);
  auto receipt = registry().Record(terms, "adv");
  ASSERT_THAT(receipt, IsOk());
  const std::string id = receipt->consent().consent_id();
  constexpr int kThreads = 16;
  std::atomic<int> granted{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      absl::Status s = h_->Claim(kSubject, {id});
      if (s.ok()) ++granted;
      if (s.code() == absl::StatusCode::kFailedPrecondition) ++refused;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 2);
  EXPECT_EQ(refused.load(), kThreads - 2);
  auto history = registry().Get(id);
  ASSERT_THAT(history, IsOk());
  EXPECT_EQ(history->back().use_count(), 2u);
}

// A decision rests on the consents and refusals it saw: if they changed
// before its uses are taken, the claim is refused even if the consent it
// used still looks usable.
TEST_F(ConsentRegistryTest, ClaimIsRefusedWhenConsentsChangedSinceTheDecision) {
  const std::string id = RecordLegalAid();
  const uint64_t seen = registry().Snapshot(kSubject)->generation;
  ASSERT_THAT(registry().RecordRefusal(kSubject, "", "adv"), IsOk());
  EXPECT_THAT(h_->Claim({kSubject, seen, {id}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("changed while the request was decided")));
  // Amending another consent of the subject changes the generation too.
  const uint64_t seen_again = registry().Snapshot(kSubject)->generation;
  v1::Consent narrower = testing::LegalAidTerms(kSubject);
  narrower.clear_categories();
  narrower.add_categories(v1::CONTACT);
  ASSERT_THAT(registry().Amend(id, narrower, "adv"), IsOk());
  EXPECT_THAT(h_->Claim({kSubject, seen_again, {id}}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(registry().Get(id)->back().use_count(), 0u);
  // A use itself does not change the generation.
  auto fresh = registry().LiftRefusal(
      registry().List(kSubject).refusals(0).refusal_id(), "adv");
  ASSERT_THAT(fresh, IsOk());
  const uint64_t now = registry().Snapshot(kSubject)->generation;
  ASSERT_THAT(h_->Claim({kSubject, now, {id}}), IsOk());
  EXPECT_EQ(registry().Snapshot(kSubject)->generation, now);
}

TEST_F(ConsentRegistryTest, UsesOfARevokedConsentAreRefusedAllOrNone) {
  auto kept = registry().Record(testing::LegalAidTerms(kSubject), "adv");
  auto revoked = registry().Record(testing::LegalAidTerms(kSubject), "adv");
  ASSERT_THAT(kept, IsOk());
  ASSERT_THAT(revoked, IsOk());
  const std::string kept_id = kept->consent().consent_id();
  const std::string revoked_id = revoked->consent().consent_id();
  ASSERT_THAT(registry().Revoke(revoked_id, "asked", "adv"), IsOk());
  EXPECT_THAT(h_->Claim(kSubject, {kept_id, revoked_id}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("CONSENT_IS_REVOKED")));
  auto history = registry().Get(kept_id);
  ASSERT_THAT(history, IsOk());
  EXPECT_EQ(history->back().use_count(), 0u);
}

TEST_F(ConsentRegistryTest, ListShowsExpiredOnceValidityEnds) {
  RecordLegalAid();
  clock().Set(testing::kNow + 30 * 86400);
  auto list = registry().List(kSubject);
  ASSERT_EQ(list.consents_size(), 1);
  EXPECT_EQ(list.consents(0).status(), v1::EXPIRED);
  EXPECT_FALSE(LegalAidMayHaveLegal());
  EXPECT_EQ(registry().List(kOtherSubject).consents_size(), 0);
}

// Withdraws, as the exchange's fanout does, whenever no consent is live any
// more, and writes one entry per withdrawal.
struct WithdrawingObserver final : public ConsentObserver {
  explicit WithdrawingObserver(const Clock* clock) : clock_(clock) {}
  absl::Status OnConsentChange(const ConsentChange& change,
                               audit::Action* action) override {
    kinds.push_back(change.kind);
    bool live = false;
    for (const v1::Consent& c : change.subject_consents) {
      live |= (c.status() == v1::ACTIVE || c.status() == v1::PAUSED) &&
              c.valid().until_unix() > clock_->NowUnix();
    }
    if (!live && holds_handle) {
      holds_handle = false;
      v1::AuditEntry entry;
      entry.set_kind(v1::HANDLE_WITHDRAWN);
      action->entries.push_back(std::move(entry));
    }
    return absl::OkStatus();
  }
  void AfterCommit() override {}

  const Clock* clock_;
  std::vector<ConsentChange::Kind> kinds;
  bool holds_handle = true;
};

// A consent that runs out must withdraw the grantee's handle as a
// revocation does; nothing else would ever tell the fanout.
TEST(ConsentExpiryTest, EachExpiredConsentIsReportedOnceWithItsCommit) {
  WithdrawingObserver observer(nullptr);
  auto h = testing::RegistryHarness::Create(&observer);
  ASSERT_THAT(h, IsOk());
  observer.clock_ = &(*h)->log().clock();
  ConsentRegistry& registry = (*h)->registry();
  auto sweep = [&] {
    absl::StatusOr<int> changed = registry.SweepExpired();
    EXPECT_THAT(changed, IsOk());
    return changed.value_or(-1);
  };
  v1::Consent short_terms = testing::LegalAidTerms(kSubject);
  short_terms.mutable_valid()->set_until_unix(testing::kNow + 60);
  v1::Consent long_terms = testing::LegalAidTerms(kSubject);
  ASSERT_THAT(registry.Record(short_terms, "adv-1"), IsOk());
  ASSERT_THAT(registry.Record(long_terms, "adv-1"), IsOk());
  observer.kinds.clear();

  // Nothing has run out yet.
  EXPECT_EQ(sweep(), 0);
  EXPECT_TRUE(observer.kinds.empty());

  // The short one ran out, but the long one keeps the handle.
  (*h)->log().clock().Advance(61);
  EXPECT_EQ(sweep(), 0);
  ASSERT_EQ(observer.kinds.size(), 1u);
  EXPECT_EQ(observer.kinds[0], ConsentChange::Kind::kExpired);
  EXPECT_TRUE(observer.holds_handle);
  EXPECT_EQ(sweep(), 0);
  EXPECT_EQ(observer.kinds.size(), 1u) << "reported twice";

  // Both ran out: the handle goes, in one commit with its entry.
  (*h)->log().clock().Advance(30 * 86400);
  const uint64_t before = (*h)->log().log().Size();
  EXPECT_EQ(sweep(), 1);
  EXPECT_FALSE(observer.holds_handle);
  EXPECT_EQ((*h)->log().log().Size(), before + 1);
  EXPECT_EQ(sweep(), 0);
  EXPECT_EQ(observer.kinds.size(), 2u);
}

// A change whose write fails is reported UNAVAILABLE, stops the storage
// (fail-stop: nothing more is written) and, after a restart, is absent.
TEST_F(ConsentRegistryTest, FailedWriteStopsTheNodeAndLeavesNothingBehind) {
  const std::string id = RecordLegalAid();
  auto& storage = h_->log().storage();
  storage.FailWriteAt(storage.writes());
  EXPECT_THAT(registry().Revoke(id, "survivor asked", "adv"),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(storage.stopped());
  EXPECT_THAT(registry().Record(testing::LegalAidTerms(kSubject), "adv"),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_THAT(h_->Restart(), IsOk());
  auto history = registry().Get(id);
  ASSERT_THAT(history, IsOk());
  EXPECT_EQ(history->size(), 1u);
  EXPECT_EQ(registry().List(kSubject).consents_size(), 1);
  EXPECT_TRUE(LegalAidMayHaveLegal());
}

TEST_F(ConsentRegistryTest, EverythingSurvivesARestart) {
  const std::string kept = RecordLegalAid();
  const std::string revoked = RecordLegalAid();
  ASSERT_THAT(registry().Amend(kept, testing::LegalAidTerms(kSubject), "adv"),
              IsOk());
  ASSERT_THAT(registry().Revoke(revoked, "asked", "adv"), IsOk());
  ASSERT_THAT(h_->Claim(kSubject, {kept}), IsOk());
  auto refusal = registry().RecordRefusal(kOtherSubject, "", "adv");
  ASSERT_THAT(refusal, IsOk());

  ASSERT_THAT(h_->Restart(), IsOk());
  auto history = registry().Get(kept);
  ASSERT_THAT(history, IsOk());
  EXPECT_EQ(history->size(), 2u);
  EXPECT_EQ(history->back().use_count(), 1u);
  auto revoked_history = registry().Get(revoked);
  ASSERT_THAT(revoked_history, IsOk());
  EXPECT_EQ(revoked_history->back().status(), v1::REVOKED);
  EXPECT_EQ(registry().List(kSubject).consents_size(), 2);
  EXPECT_EQ(registry().Snapshot(kSubject)->consents.size(), 2u);
  EXPECT_TRUE(registry().Snapshot(kOtherSubject)->refused);
  EXPECT_FALSE(registry().Snapshot(kSubject)->refused);
}

TEST_F(ConsentRegistryTest, NothingStoredNamesTheSubjectGranteeOrTerms) {
  RecordLegalAid();
  ASSERT_THAT(registry().RecordRefusal(kSubject, "", "adv"), IsOk());
  const auto& storage = h_->log().storage();
  for (const std::string& key : storage.Keys(storage::Family::kConsent)) {
    EXPECT_THAT(key, Not(HasSubstr(kSubject)));
    auto value = storage.Get(storage::Family::kConsent, key);
    ASSERT_THAT(value, IsOk());
    EXPECT_THAT(**value, Not(HasSubstr(kSubject))) << key;
    EXPECT_THAT(**value, Not(HasSubstr("legal-aid"))) << key;
    EXPECT_THAT(**value, Not(HasSubstr("adv"))) << key;
  }
}

// With the node stopped, each stored consent, refusal or use count is
// edited, deleted, swapped with another or put back as an older copy,
// straight in the storage: the next start refuses (DATA_LOSS), it never
// obeys the change.
class ConsentTamperTest : public ConsentRegistryTest,
                          public ::testing::WithParamInterface<const char*> {};

TEST_P(ConsentTamperTest, IsDetectedAtStart) {
  const std::string attack = GetParam();
  const std::string id = RecordLegalAid();
  const std::string other = RecordLegalAid();
  auto refusal = registry().RecordRefusal(kSubject, "", "adv");
  ASSERT_THAT(refusal, IsOk());
  ASSERT_THAT(h_->Claim(kSubject, {other}), IsOk());
  // The revocation the attacker wants undone.
  auto& storage = h_->log().storage();
  const std::string v1_key = absl::StrCat("c/", id, "/00000001");
  const std::string v1_value = **storage.Get(storage::Family::kConsent, v1_key);
  const std::string use_key = absl::StrCat("u/", other);
  const std::string old_use = **storage.Get(storage::Family::kConsent, use_key);
  ASSERT_THAT(registry().Revoke(id, "survivor asked", "adv"), IsOk());
  ASSERT_THAT(h_->Claim(kSubject, {other}), IsOk());
  const std::string v2_key = absl::StrCat("c/", id, "/00000002");
  const std::string refusal_key = absl::StrCat("r/", refusal->refusal_id());
  const std::string other_key = absl::StrCat("c/", other, "/00000001");
  h_->log().Close();

  auto value_of = [&](const std::string& key) {
    return **storage.Get(storage::Family::kConsent, key);
  };
  if (attack == "delete-revocation") {
    storage.Tamper(storage::Family::kConsent, v2_key, std::nullopt);
  } else if (attack == "edit-revocation") {
    std::string v = value_of(v2_key);
    v[v.size() / 2] ^= 0x20;
    storage.Tamper(storage::Family::kConsent, v2_key, v);
  } else if (attack == "revocation-replaced-by-version-1") {
    storage.Tamper(storage::Family::kConsent, v2_key, v1_value);
  } else if (attack == "swap-consents") {
    const std::string a = value_of(v1_key);
    storage.Tamper(storage::Family::kConsent, v1_key, value_of(other_key));
    storage.Tamper(storage::Family::kConsent, other_key, a);
  } else if (attack == "delete-refusal") {
    storage.Tamper(storage::Family::kConsent, refusal_key, std::nullopt);
  } else if (attack == "edit-refusal") {
    std::string v = value_of(refusal_key);
    v[v.size() - 2] ^= 0x01;
    storage.Tamper(storage::Family::kConsent, refusal_key, v);
  } else if (attack == "refusal-moved-to-consent") {
    storage.Tamper(storage::Family::kConsent, v2_key, value_of(refusal_key));
  } else if (attack == "use-count-rolled-back") {
    storage.Tamper(storage::Family::kConsent, use_key, old_use);
  } else if (attack == "consent-added") {
    storage.Tamper(storage::Family::kConsent,
                   absl::StrCat("c/", id, "/00000003"), v1_value);
  } else {
    FAIL() << "unknown attack " << attack;
  }
  absl::Status restarted =
      h_->Restart(haven::testing::FaultInjectingStorage::Unsynced::kKeep);
  EXPECT_THAT(restarted, StatusIs(absl::StatusCode::kDataLoss)) << attack;
}

INSTANTIATE_TEST_SUITE_P(
    Attacks, ConsentTamperTest,
    ::testing::Values("delete-revocation", "edit-revocation",
                      "revocation-replaced-by-version-1", "swap-consents",
                      "delete-refusal", "edit-refusal",
                      "refusal-moved-to-consent", "use-count-rolled-back",
                      "consent-added"),
    [](const ::testing::TestParamInfo<const char*>& info) {
      std::string name = info.param;
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

// "Do not share with metro-pd": the snapshot refuses that agency only, the
// change tells the observer which agency and which refusal, and it
// survives a restart until lifted.
TEST(AgencyRefusalTest, RefusesOneAgencyUntilLifted) {
  WithdrawingObserver observer(nullptr);
  auto h = testing::RegistryHarness::Create(&observer);
  ASSERT_THAT(h, IsOk());
  observer.clock_ = &(*h)->log().clock();
  ConsentRegistry* registry = &(*h)->registry();
  ASSERT_THAT(registry->Record(testing::LegalAidTerms(kSubject), "adv"),
              IsOk());
  for (const std::string& bad : {std::string("Metro_PD"), std::string("a b"),
                                std::string(64, 'a'), std::string(700, 'a')}) {
    EXPECT_THAT(registry->RecordRefusal(kSubject, "", "adv", bad),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  auto refusal = registry->RecordRefusal(kSubject, "", "adv", "metro-pd");
  ASSERT_THAT(refusal, IsOk());
  EXPECT_EQ(refusal->agency_id(), "metro-pd");
  EXPECT_EQ(observer.kinds.back(), ConsentChange::Kind::kRefusalRecorded);
  auto snapshot = registry->Snapshot(kSubject);
  EXPECT_FALSE(snapshot->refused);
  EXPECT_TRUE(snapshot->Refuses("metro-pd"));
  EXPECT_FALSE(snapshot->Refuses("legal-aid"));

  ASSERT_THAT((*h)->Restart(), IsOk());
  registry = &(*h)->registry();
  EXPECT_TRUE(registry->Snapshot(kSubject)->Refuses("metro-pd"));
  ASSERT_EQ(registry->List(kSubject).refusals_size(), 1);
  EXPECT_EQ(registry->List(kSubject).refusals(0).agency_id(), "metro-pd");

  ASSERT_THAT(registry->LiftRefusal(refusal->refusal_id(), "adv"), IsOk());
  EXPECT_FALSE(registry->Snapshot(kSubject)->Refuses("metro-pd"));
}

// Records what the registry asks of it about membership changes.
struct MembershipObserver final : public ConsentObserver {
  absl::Status OnConsentChange(const ConsentChange& change,
                               audit::Action* action) override {
    if (change.kind != ConsentChange::Kind::kMembershipChanged) {
      return absl::OkStatus();
    }
    subjects.push_back(change.subject_id);
    agencies = change.agencies;
    v1::AuditEntry entry;
    entry.set_kind(v1::HANDLE_ISSUED);
    action->entries.push_back(std::move(entry));
    return absl::OkStatus();
  }
  void AfterCommit() override {}
  std::vector<std::string> subjects;
  std::vector<std::string> agencies;
};

// A membership change concerns the subjects with an active or paused
// consent, each once and in its own commit; a revoked consent's subject is
// not visited.
TEST(ReconcileMembersTest, VisitsEachSubjectWithALiveConsentOnce) {
  MembershipObserver observer;
  auto h = testing::RegistryHarness::Create(&observer);
  ASSERT_THAT(h, IsOk());
  ConsentRegistry& registry = (*h)->registry();
  ASSERT_THAT(registry.Record(testing::LegalAidTerms(kSubject), "adv"), IsOk());
  ASSERT_THAT(registry.Record(testing::LegalAidTerms(kSubject), "adv"), IsOk());
  auto other = registry.Record(testing::LegalAidTerms(kOtherSubject), "adv");
  ASSERT_THAT(other, IsOk());
  ASSERT_THAT(registry.Revoke(other->consent().consent_id(), "asked", "adv"),
              IsOk());

  EXPECT_THAT(registry.ReconcileMembers({}), IsOk());
  EXPECT_TRUE(observer.subjects.empty());
  const uint64_t before = (*h)->log().log().Size();
  absl::StatusOr<int> changed =
      registry.ReconcileMembers({"bay-legal", "metro-pd"});
  ASSERT_THAT(changed, IsOk());
  EXPECT_EQ(*changed, 1);
  EXPECT_EQ(observer.subjects, std::vector<std::string>{kSubject});
  EXPECT_EQ(observer.agencies,
            (std::vector<std::string>{"bay-legal", "metro-pd"}));
  EXPECT_EQ((*h)->log().log().Size(), before + 1);

  EXPECT_THAT(registry.ReconcileMembers(std::vector<std::string>(
                  limits::kMaxManifestMembers + 1, "x")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace haven::server::consent

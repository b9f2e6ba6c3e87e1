#include "server/exchange/requester.h"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/verify/signed_batch.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/audit/audit_log.h"
#include "server/audit/audit_recorder.h"
#include "server/exchange/signing.h"
#include "server/federation/manifest.h"
#include "tests/testing/in_process_holder.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_log.h"

namespace haven::server::exchange {
namespace {

using ::haven::testing::InProcessHolder;
using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::HasSubstr;

// A transport that holds every call until the test answers it.
class HeldTransport : public DisclosureTransport {
 public:
  struct Call {
    haven::v1::Member holder;
    haven::v1::DiscloseRequest request;
    DiscloseDone done;
  };

  void DiscloseAsync(const haven::v1::Member& holder,
                     haven::v1::DiscloseRequest request,
                     DiscloseDone done) override {
    absl::MutexLock lock(&mu_);
    calls_.push_back({holder, std::move(request), std::move(done)});
  }

  // Calls made and not yet taken.
  size_t waiting() {
    absl::MutexLock lock(&mu_);
    return calls_.size();
  }
  // The oldest call not yet taken; the test must answer it.
  Call Take() {
    absl::MutexLock lock(&mu_);
    Call call = std::move(calls_.front());
    calls_.pop_front();
    return call;
  }

 private:
  absl::Mutex mu_;
  std::deque<Call> calls_ ABSL_GUARDED_BY(mu_);
};

// What the requester reported to each local caller, by caller name.
class Outcomes {
 public:
  Requester::RequestDone For(const std::string& name) {
    return [this, name](
               absl::StatusOr<haven::v1::RequestDisclosureResponse> outcome) {
      absl::MutexLock lock(&mu_);
      outcomes_.emplace(name, std::move(outcome));
    };
  }
  // Waits (bounded) until `count` callers have their outcome.
  bool WaitFor(size_t count) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, count]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return outcomes_.size() >= count;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
  }
  absl::StatusOr<haven::v1::RequestDisclosureResponse> Of(
      const std::string& name) {
    absl::MutexLock lock(&mu_);
    auto it = outcomes_.find(name);
    if (it == outcomes_.end()) return absl::UnknownError("no outcome yet");
    return it->second;
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return outcomes_.size();
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, absl::StatusOr<haven::v1::RequestDisclosureResponse>>
      outcomes_ ABSL_GUARDED_BY(mu_);
};

// Legal-aid's requester, in process, asking an in-process safe-harbor
// through a transport the test drives.
class RequesterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto holder = InProcessHolder::Create();
    ASSERT_THAT(holder, IsOk());
    holder_ = *std::move(holder);
    ASSERT_THAT(holder_->AddConsentedSurvivor("555-0100", &subject_, &handle_),
                IsOk());

    // The manifest the requester reads: both members, endpoints unused.
    std::ostringstream manifest;
    manifest << "federation: \"test\"\nserial: 1\n";
    int port = 1;
    for (const haven::v1::Member* m :
         {&holder_->holder_member(), &holder_->peer_member()}) {
      manifest << "members { agency_id: \"" << m->agency_id() << "\" name: \""
               << m->agency_id()
               << "\" sector: " << haven::v1::Sector_Name(m->sector())
               << " endpoint: \"127.0.0.1:" << port << "\" cert_sha256: \""
               << std::string(64, static_cast<char>('a' + port))
               << "\" verifier_key: \"" << m->verifier_key()
               << "\" status: MEMBER_ACTIVE }\n";
      ++port;
    }
    auto parsed = federation::Manifest::Parse(manifest.str(), "test");
    ASSERT_THAT(parsed, IsOk());
    federation_ = federation::FederationRegistry::ForManifest(*parsed);

    // Legal-aid's own log, on its own storage.
    auto log = haven::testing::TestLog::Create("legal-aid");
    ASSERT_THAT(log, IsOk());
    requester_log_ = *std::move(log);
    log_ = &requester_log_->log();
    recorder_ = &requester_log_->recorder();
  }

  void MakeRequester(int max_batches_in_flight, int max_waiting = 1024) {
    requester_ = std::make_unique<Requester>(
        Requester::Deps{"legal-aid", &holder_->clock(), &holder_->peer_signer(),
                        federation_.get(), &transport_, recorder_,
                        max_batches_in_flight, max_waiting});
  }

  void Ask(const std::string& name) {
    haven::v1::RequestDisclosureRequest request;
    request.set_holder_agency_id("safe-harbor");
    request.set_handle(handle_);
    request.set_purpose(haven::v1::LEGAL_REPRESENTATION);
    request.add_categories(haven::v1::CONTACT);
    requester_->RequestAsync("caseworker-" + name, request,
                             outcomes_.For(name));
  }

  // Lets the in-process holder answer `call`.
  void Answer(HeldTransport::Call call) {
    call.done(holder_->holder().Disclose(holder_->peer_member(), call.request));
  }

  // The requests of `call`, checked against legal-aid's batch signature.
  std::vector<haven::v1::DisclosureRequest> RequestsOf(
      const HeldTransport::Call& call) {
    EXPECT_THAT(
        client::VerifyBatchSignature(
            holder_->peer_member().verifier_key(), client::kRequestBatchContext,
            client::BatchDigests(call.request.requests()),
            call.request.signature(), "legal-aid"),
        IsOk());
    std::vector<haven::v1::DisclosureRequest> requests;
    for (const std::string& bytes : call.request.requests()) {
      EXPECT_TRUE(requests.emplace_back().ParseFromString(bytes));
    }
    return requests;
  }

  // The requester's receipts, in log order.
  std::vector<haven::v1::AuditEntry> Receipts() {
    std::vector<haven::v1::AuditEntry> receipts;
    auto entries = log_->GetEntries(0, 1000);
    EXPECT_THAT(entries, IsOk());
    if (!entries.ok()) return receipts;
    for (const auto& e : *entries) receipts.push_back(e.entry());
    return receipts;
  }

  std::unique_ptr<InProcessHolder> holder_;
  std::string subject_;
  std::string handle_;
  std::unique_ptr<federation::FederationRegistry> federation_;
  std::unique_ptr<haven::testing::TestLog> requester_log_;
  audit::AuditLog* log_ = nullptr;
  const audit::AuditRecorder* recorder_ = nullptr;
  HeldTransport transport_;
  Outcomes outcomes_;
  std::unique_ptr<Requester> requester_;
};

TEST_F(RequesterTest, RequestsArrivingWhileABatchIsOutLeaveTogether) {
  MakeRequester(/*max_batches_in_flight=*/1);
  Ask("a");
  ASSERT_EQ(transport_.waiting(), 1u);
  Ask("b");
  Ask("c");
  Ask("d");
  // One batch out at a time: b, c and d wait.
  ASSERT_EQ(transport_.waiting(), 1u);
  HeldTransport::Call first = transport_.Take();
  ASSERT_EQ(RequestsOf(first).size(), 1u);

  Answer(std::move(first));
  // The answer lets the waiting requests leave, as one signed batch.
  ASSERT_EQ(transport_.waiting(), 1u);
  HeldTransport::Call second = transport_.Take();
  const auto batched = RequestsOf(second);
  ASSERT_EQ(batched.size(), 3u);
  EXPECT_EQ(batched[0].requester_principal(), "caseworker-b");
  EXPECT_EQ(batched[2].requester_principal(), "caseworker-d");
  const int64_t holder_batches = holder_->log().batches();
  Answer(std::move(second));
  // The holder decided and logged the three in one commit.
  EXPECT_EQ(holder_->log().batches(), holder_batches + 1);

  ASSERT_TRUE(outcomes_.WaitFor(4));
  for (const char* name : {"a", "b", "c", "d"}) {
    auto outcome = outcomes_.Of(name);
    ASSERT_THAT(outcome, IsOk()) << name;
    ASSERT_EQ(outcome->fields_size(), 1) << name;
    EXPECT_EQ(outcome->fields(0).value(), "555-0100");
    // Each answer can be shown and checked alone.
    auto answer =
        client::VerifySignedDisclosure(holder_->holder_member().verifier_key(),
                                       outcome->signed_(), "safe-harbor");
    ASSERT_THAT(answer, IsOk()) << name;
    EXPECT_EQ(answer->disclosure().audit_index(),
              outcome->holder_audit_index());
  }
  auto receipts = Receipts();
  ASSERT_EQ(receipts.size(), 4u);
  for (const auto& receipt : receipts) {
    EXPECT_EQ(receipt.kind(), haven::v1::DISCLOSURE_RECEIVED);
    EXPECT_EQ(receipt.agency_id(), "safe-harbor");
  }
}

TEST_F(RequesterTest, NoMoreThan64RequestsLeaveInOneBatch) {
  MakeRequester(/*max_batches_in_flight=*/1);
  constexpr int kAsked = client::kMaxRequestBatch + 6;
  for (int i = 0; i < kAsked; ++i) Ask(absl::StrCat(i));
  Answer(transport_.Take());  // the first, alone
  HeldTransport::Call full = transport_.Take();
  EXPECT_EQ(full.request.requests_size(), client::kMaxRequestBatch);
  Answer(std::move(full));
  HeldTransport::Call rest = transport_.Take();
  EXPECT_EQ(rest.request.requests_size(),
            kAsked - 1 - client::kMaxRequestBatch);
  Answer(std::move(rest));
  ASSERT_TRUE(outcomes_.WaitFor(kAsked));
  for (int i = 0; i < kAsked; ++i) {
    EXPECT_THAT(outcomes_.Of(absl::StrCat(i)), IsOk()) << i;
  }
}

TEST_F(RequesterTest, RequestsBeyondTheWaitingBoundAreRefusedAtOnce) {
  MakeRequester(/*max_batches_in_flight=*/1, /*max_waiting=*/2);
  Ask("a");  // out
  Ask("b");  // waiting
  Ask("c");  // waiting
  Ask("d");  // one too many
  ASSERT_EQ(outcomes_.size(), 1u);
  EXPECT_THAT(outcomes_.Of("d"),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("too many requests are waiting")));
  Answer(transport_.Take());
  Answer(transport_.Take());
  ASSERT_TRUE(outcomes_.WaitFor(4));
  for (const char* name : {"a", "b", "c"}) {
    EXPECT_THAT(outcomes_.Of(name), IsOk()) << name;
  }
  // Refused before it left: nothing to pair at the holder, no receipt.
  EXPECT_EQ(Receipts().size(), 3u);
}

TEST_F(RequesterTest, UnreachableHolderRefusesEveryRequestOnRecord) {
  MakeRequester(/*max_batches_in_flight=*/1);
  Ask("a");
  Ask("b");
  Ask("c");
  transport_.Take().done(
      absl::UnavailableError("peer 'safe-harbor' unreachable: refused"));
  HeldTransport::Call batch = transport_.Take();
  ASSERT_EQ(batch.request.requests_size(), 2);
  batch.done(absl::UnavailableError("peer 'safe-harbor' unreachable: refused"));

  ASSERT_TRUE(outcomes_.WaitFor(3));
  for (const char* name : {"a", "b", "c"}) {
    EXPECT_THAT(outcomes_.Of(name), StatusIs(absl::StatusCode::kUnavailable))
        << name;
  }
  auto receipts = Receipts();
  ASSERT_EQ(receipts.size(), 3u);
  for (const auto& receipt : receipts) {
    EXPECT_EQ(receipt.kind(), haven::v1::REQUEST_REFUSED);
    EXPECT_FALSE(receipt.request_id().empty());
    EXPECT_THAT(receipt.detail(), HasSubstr("UNAVAILABLE"));
  }
}

TEST_F(RequesterTest, AnswersTheHolderDidNotSignAreRefused) {
  MakeRequester(/*max_batches_in_flight=*/2);
  Ask("a");
  HeldTransport::Call call = transport_.Take();
  auto answers =
      holder_->holder().Disclose(holder_->peer_member(), call.request);
  ASSERT_THAT(answers, IsOk());
  // Signed with the requester's own key instead of the holder's.
  answers->set_signature(SignBatch(
      holder_->peer_signer(), client::kAnswerBatchContext, answers->answers()));
  call.done(*std::move(answers));

  ASSERT_TRUE(outcomes_.WaitFor(1));
  EXPECT_THAT(outcomes_.Of("a"), StatusIs(absl::StatusCode::kDataLoss,
                                          HasSubstr("not signed by it")));
  auto receipts = Receipts();
  ASSERT_EQ(receipts.size(), 1u);
  EXPECT_EQ(receipts[0].kind(), haven::v1::REQUEST_REFUSED);
  EXPECT_EQ(receipts[0].given_size(), 0);
}

TEST_F(RequesterTest, SignedAnswerToAnotherRequestIsRefused) {
  MakeRequester(/*max_batches_in_flight=*/1);
  Ask("a");
  Ask("b");
  Ask("c");
  Answer(transport_.Take());
  HeldTransport::Call call = transport_.Take();
  auto answers =
      holder_->holder().Disclose(holder_->peer_member(), call.request);
  ASSERT_THAT(answers, IsOk());
  ASSERT_EQ(answers->answers_size(), 2);
  // The holder's own answers, swapped and signed by the holder: each is
  // genuine, but not the answer to the request at its place.
  answers->mutable_answers()->SwapElements(0, 1);
  answers->set_signature(SignBatch(holder_->holder_signer(),
                                   client::kAnswerBatchContext,
                                   answers->answers()));
  call.done(*std::move(answers));

  ASSERT_TRUE(outcomes_.WaitFor(3));
  EXPECT_THAT(outcomes_.Of("a"), IsOk());
  for (const char* name : {"b", "c"}) {
    EXPECT_THAT(outcomes_.Of(name), StatusIs(absl::StatusCode::kDataLoss,
                                             HasSubstr("not for this request")))
        << name;
  }
}

// A holder that discloses more than its own log records would disclose off
// the record: its answers are refused though signed and proven.
class DishonestHolderTest : public RequesterTest {
 protected:
  // Asks once and answers with the holder's answer changed by `change`,
  // signed by the holder; the requester's outcome.
  absl::StatusOr<haven::v1::RequestDisclosureResponse> AnswerChanged(
      const std::function<void(haven::v1::Disclosure*)>& change) {
    MakeRequester(/*max_batches_in_flight=*/1);
    Ask("a");
    HeldTransport::Call call = transport_.Take();
    auto answers =
        holder_->holder().Disclose(holder_->peer_member(), call.request);
    EXPECT_THAT(answers, IsOk());
    if (!answers.ok()) return answers.status();
    haven::v1::DisclosureAnswer answer;
    EXPECT_TRUE(answer.ParseFromString(answers->answers(0)));
    EXPECT_TRUE(answer.has_disclosure());
    change(answer.mutable_disclosure());
    *answers->mutable_answers(0) = Deterministic(answer);
    answers->set_signature(SignBatch(holder_->holder_signer(),
                                     client::kAnswerBatchContext,
                                     answers->answers()));
    call.done(*std::move(answers));
    EXPECT_TRUE(outcomes_.WaitFor(1));
    return outcomes_.Of("a");
  }
};

TEST_F(DishonestHolderTest, AnswerGivingMoreThanItsAuditEntrySaysIsRefused) {
  auto outcome = AnswerChanged([](haven::v1::Disclosure* d) {
    haven::v1::Field* extra = d->add_fields();
    extra->set_name("clinic_visit");
    extra->set_category(haven::v1::MEDICAL);
    extra->set_value("treated 2026-10-02");
  });
  EXPECT_THAT(outcome, StatusIs(absl::StatusCode::kDataLoss,
                                HasSubstr("does not record as given")));
  auto receipts = Receipts();
  ASSERT_EQ(receipts.size(), 1u);
  EXPECT_EQ(receipts[0].kind(), haven::v1::REQUEST_REFUSED);
  EXPECT_EQ(receipts[0].given_size(), 0);
}

TEST_F(DishonestHolderTest, AnswerWhoseEntryRecordsOtherCategoriesIsRefused) {
  // The decision claims a category the logged entry does not give.
  auto outcome = AnswerChanged([](haven::v1::Disclosure* d) {
    haven::v1::CategoryDecision* c = d->mutable_decision()->add_categories();
    c->set_category(haven::v1::IMMIGRATION);
    c->set_allowed(true);
    c->set_reason(haven::v1::ALLOWED_BY_RULE);
  });
  EXPECT_THAT(outcome, StatusIs(absl::StatusCode::kDataLoss,
                                HasSubstr("other categories")));
}

TEST_F(DishonestHolderTest, UnchangedAnswerIsAccepted) {
  auto outcome = AnswerChanged([](haven::v1::Disclosure*) {});
  ASSERT_THAT(outcome, IsOk());
  EXPECT_EQ(outcome->fields_size(), 1);
}

TEST_F(RequesterTest, HolderRefusalKeepsItsCodeAndIsLoggedAtBothNodes) {
  MakeRequester(/*max_batches_in_flight=*/1);
  haven::v1::RequestDisclosureRequest request;
  request.set_holder_agency_id("safe-harbor");
  // Well-formed, but not a handle the holder issued.
  request.set_handle("00112233445566778899aabbccddeeff");
  request.set_purpose(haven::v1::LEGAL_REPRESENTATION);
  request.add_categories(haven::v1::CONTACT);
  requester_->RequestAsync("caseworker-x", request, outcomes_.For("x"));
  const uint64_t holder_size = holder_->log().Size();
  Answer(transport_.Take());

  ASSERT_TRUE(outcomes_.WaitFor(1));
  EXPECT_THAT(outcomes_.Of("x"), StatusIs(absl::StatusCode::kNotFound,
                                          HasSubstr("peer 'safe-harbor'")));
  EXPECT_EQ(holder_->log().Size(), holder_size + 1);
  auto receipts = Receipts();
  ASSERT_EQ(receipts.size(), 1u);
  EXPECT_EQ(receipts[0].kind(), haven::v1::REQUEST_REFUSED);
  EXPECT_THAT(receipts[0].detail(), HasSubstr("NOT_FOUND"));
}

}  // namespace
}  // namespace haven::server::exchange

// End-to-end tests of the exchange between agencies, with three real havend
// processes on 127.0.0.1 that know each other through one federation
// manifest: safe-harbor (victim services) holds a survivor's records;
// legal-aid (legal services) and metro-pd (law enforcement) ask for them.
// Each node runs its sharing policy from policy/examples. Agency clients talk
// to their own node's local API; some tests act as legal-aid's node itself on
// safe-harbor's peer API, with legal-aid's certificate and signing key.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/verify/reconcile.h"
#include "client/verify/signed_batch.h"
#include "client/verify/signed_note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "haven/v1/audit.grpc.pb.h"
#include "haven/v1/consent.grpc.pb.h"
#include "haven/v1/exchange.grpc.pb.h"
#include "haven/v1/records.grpc.pb.h"
#include "server/audit/pseudonym.h"
#include "server/crypto/ed25519_signer.h"
#include "server/crypto/master_key.h"
#include "server/crypto/node_keys.h"
#include "tests/testing/federation_calls.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_federation.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

using ::haven::v1::Category;
using ::haven::v1::EntryKind;
using ::haven::v1::IndexedEntry;
using ::haven::v1::Purpose;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

constexpr char kHolder[] = "safe-harbor";
constexpr char kLegalAid[] = "legal-aid";
constexpr char kPolice[] = "metro-pd";

std::set<std::string> FieldNames(
    const google::protobuf::RepeatedPtrField<haven::v1::Field>& fields) {
  std::set<std::string> names;
  for (const auto& field : fields) names.insert(field.name());
  return names;
}

int AllowedCount(const haven::v1::Decision& decision) {
  int allowed = 0;
  for (const auto& c : decision.categories()) allowed += c.allowed() ? 1 : 0;
  return allowed;
}

// The holder's decisions about `requester`'s requests, paired by request id
// with the requester's receipts of `holder`'s answers by the shipped
// reconciliation (client/verify/reconcile.h, as `havenctl audit reconcile`
// runs it). Returns one line per entry without a partner ("unpaired at
// AGENCY: ID"), per request id on record more than once on one side, and
// per field on which a pair's two sides disagree.
std::vector<std::string> Reconcile(
    const std::vector<IndexedEntry>& holder_log, const std::string& holder_id,
    const std::vector<IndexedEntry>& requester_log,
    const std::string& requester_id) {
  const client::ReconcileReport report = client::ReconcileExchanges(
      {holder_id, &holder_log}, {requester_id, &requester_log});
  std::vector<std::string> problems;
  for (const client::ReconcileFinding& f : report.findings) {
    if (f.type == client::ReconcileFinding::Type::kUnpaired) {
      problems.push_back(absl::StrCat(
          "unpaired at ", f.index_a.has_value() ? holder_id : requester_id,
          ": ", f.request_id));
    } else {
      problems.push_back(client::DescribeFinding(f, holder_id, requester_id));
    }
  }
  return problems;
}

class ExchangeTest : public ::testing::Test, public FederationCalls {
 protected:
  ExchangeTest() : FederationCalls(kHolder) {}

  void SetUp() override {
    federation_ = std::make_unique<TestFederation>(dir_.path());
    set_federation(federation_.get());
    std::string error;
    ASSERT_TRUE(federation_->Create({ExampleMember(kHolder, "VICTIM_SERVICES"),
                                     ExampleMember(kLegalAid, "LEGAL_SERVICES"),
                                     ExampleMember(kPolice, "LAW_ENFORCEMENT")},
                                    &error))
        << error;
    ASSERT_TRUE(federation_->Start(&error)) << error;
    for (const char* agency : {kHolder, kLegalAid, kPolice}) Connect(agency);
  }

  // A survivor at the holder with one record holding a field in each of
  // several categories.
  std::string CreateSurvivor() {
    return CreateSubject(
        {NewField("full_name", haven::v1::IDENTITY, "A. Survivor"),
         NewField("phone", haven::v1::CONTACT, "555-0100 (after 6pm)"),
         NewField("visa_status", haven::v1::IMMIGRATION,
                  "T-visa application pending"),
         NewField("clinic_visit", haven::v1::MEDICAL, "treated 2026-10-02"),
         NewField("stage", haven::v1::CASE_STATUS, "open"),
         NewField("notes", haven::v1::CASE_NOTES, "advocate's private notes")});
  }

  // The advocate records a consent at the holder; returns its id.
  std::string RecordConsent(const std::string& subject,
                            const std::string& grantee, Purpose purpose,
                            const std::vector<Category>& categories,
                            int64_t data_life_seconds = kDataLifeSeconds) {
    haven::v1::RecordConsentResponse response;
    grpc::Status status = FederationCalls::RecordConsent(
        NewConsent(subject, grantee, purpose, categories, data_life_seconds),
        &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.receipt().consent().consent_id();
  }

  grpc::Status Revoke(const std::string& consent_id) {
    return FederationCalls::Revoke(consent_id, "survivor withdrew consent");
  }

  // Revokes `consent` while `agency`'s caseworker watches its notices, as
  // agency IT would; the notice naming `handle`, or nullopt if none was
  // streamed within 10 s.
  std::optional<haven::v1::RevocationNotice> RevokeWatching(
      const std::string& agency, const std::string& consent,
      const std::string& handle) {
    auto stub = haven::v1::ExchangeService::NewStub(channel(agency));
    auto watch = Call(agency, "caseworker", std::chrono::seconds(10));
    auto reader =
        stub->WatchNotices(watch.get(), haven::v1::WatchNoticesRequest());
    grpc::Status status = Revoke(consent);
    EXPECT_TRUE(status.ok()) << status.error_message();
    haven::v1::WatchNoticesResponse message;
    bool seen = false;
    while (status.ok() && !seen && reader->Read(&message)) {
      seen = message.notice().handle() == handle;
    }
    watch->TryCancel();
    reader->Finish();
    if (!seen) return std::nullopt;
    return message.notice();
  }

  static const IndexedEntry* FindEntry(const std::vector<IndexedEntry>& log,
                                       uint64_t index) {
    for (const auto& entry : log) {
      if (entry.index() == index) return &entry;
    }
    return nullptr;
  }

  // How the holder names `consent_id` to `agency`: its reference keyed
  // under the holder's pseudonym secret, derived as the node derives it.
  std::string ConsentRefFor(const std::string& agency,
                            const std::string& consent_id) {
    auto master = server::crypto::LoadMasterKeyFile(
        federation_->master_key_file(kHolder));
    EXPECT_TRUE(master.ok()) << master.status();
    if (!master.ok()) return "";
    auto key = server::crypto::DerivePseudonymKey(*master);
    EXPECT_TRUE(key.ok()) << key.status();
    if (!key.ok()) return "";
    return server::audit::ConsentReference(*key, agency, consent_id);
  }

  // The signing key of `agency`'s node, checked against the key the
  // manifest publishes for it.
  std::unique_ptr<server::crypto::Ed25519Signer> SignerOf(
      const std::string& agency) {
    auto signer = NodeSigner(*federation_, agency);
    if (signer == nullptr) return nullptr;
    auto published =
        client::ParseVerifierKey(federation_->verifier_key(agency));
    EXPECT_TRUE(published.ok()) << published.status();
    if (published.ok()) {
      EXPECT_EQ(published->public_key,
                std::string(
                    reinterpret_cast<const char*>(signer->public_key().data()),
                    signer->public_key().size()));
    }
    return signer;
  }

  // A mutual-TLS stub on the holder's peer API presenting `agency`'s
  // certificate.
  std::unique_ptr<haven::v1::PeerService::Stub> PeerStubAs(
      const std::string& agency) {
    return haven::v1::PeerService::NewStub(
        PeerChannel(*federation_, agency, kHolder));
  }

  static haven::v1::DisclosureRequest NewPeerRequest(
      const std::string& claimed_agency, const std::string& handle,
      Purpose purpose, Category category) {
    haven::v1::DisclosureRequest request;
    request.set_request_id(RandomHex(16));
    request.set_sent_unix(NowUnix());
    request.set_requester_agency_id(claimed_agency);
    request.set_handle(handle);
    request.set_purpose(purpose);
    request.add_categories(category);
    request.set_requester_principal(claimed_agency + "-caseworker");
    return request;
  }

  // Sends `requests` to the holder's peer API as one batch signed with
  // `signer`. On OK, `answers` holds the holder's answers, whose batch
  // signature is checked against the holder's manifest key.
  grpc::Status DiscloseBatch(
      haven::v1::PeerService::Stub& stub,
      const server::crypto::Ed25519Signer& signer,
      const std::vector<haven::v1::DisclosureRequest>& requests,
      std::vector<haven::v1::DisclosureAnswer>* answers) {
    return SendBatch(stub, *federation_, kHolder, SignedBatch(signer, requests),
                     answers);
  }

  // One request alone: a refusal comes back as its status; a disclosure
  // fills `disclosure`.
  grpc::Status Disclose(haven::v1::PeerService::Stub& stub,
                        const server::crypto::Ed25519Signer& signer,
                        const haven::v1::DisclosureRequest& request,
                        haven::v1::Disclosure* disclosure) {
    std::vector<haven::v1::DisclosureAnswer> answers;
    grpc::Status status = DiscloseBatch(stub, signer, {request}, &answers);
    if (!status.ok() || answers.size() != 1) return status;
    EXPECT_EQ(answers[0].request_id(), request.request_id());
    return AnswerStatus(answers[0], disclosure);
  }

  static grpc::Status AnswerStatus(const haven::v1::DisclosureAnswer& answer,
                                   haven::v1::Disclosure* disclosure) {
    if (answer.has_refusal()) {
      return grpc::Status(
          static_cast<grpc::StatusCode>(answer.refusal().code()),
          answer.refusal().message());
    }
    *disclosure = answer.disclosure();
    return grpc::Status::OK;
  }

  static constexpr int64_t kDataLifeSeconds = 30 * 86400;

  TempDir dir_;
  std::unique_ptr<TestFederation> federation_;
};

TEST_F(ExchangeTest, LegalAidReceivesExactlyTheConsentedCategories) {
  const std::string subject = CreateSurvivor();
  const std::string consent =
      RecordConsent(subject, kLegalAid, haven::v1::LEGAL_REPRESENTATION,
                    {haven::v1::CONTACT, haven::v1::IMMIGRATION});
  ASSERT_FALSE(consent.empty());
  const std::string handle = WaitForHandle(kLegalAid);
  ASSERT_FALSE(handle.empty());

  haven::v1::RequestDisclosureResponse response;
  grpc::Status status =
      Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
              {haven::v1::CONTACT, haven::v1::IMMIGRATION, haven::v1::MEDICAL,
               haven::v1::CASE_NOTES},
              &response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  EXPECT_THAT(FieldNames(response.fields()),
              UnorderedElementsAre("phone", "visa_status"));
  for (const auto& field : response.fields()) {
    if (field.name() == "phone") {
      EXPECT_EQ(field.value(), "555-0100 (after 6pm)");
    }
    if (field.name() == "visa_status") {
      EXPECT_EQ(field.value(), "T-visa application pending");
    }
  }
  std::map<Category, haven::v1::CategoryDecision> decided;
  for (const auto& c : response.decision().categories()) {
    decided[c.category()] = c;
    EXPECT_FALSE(c.explanation().empty()) << Category_Name(c.category());
  }
  ASSERT_EQ(decided.size(), 4u);
  for (Category c : {haven::v1::CONTACT, haven::v1::IMMIGRATION}) {
    EXPECT_TRUE(decided[c].allowed()) << Category_Name(c);
    EXPECT_EQ(decided[c].reason(), haven::v1::ALLOWED_BY_CONSENT);
    // Named by legal-aid's own reference, never the consent id.
    EXPECT_EQ(decided[c].consent_id(), ConsentRefFor(kLegalAid, consent));
    EXPECT_NE(decided[c].consent_id(), consent);
    EXPECT_THAT(decided[c].explanation(), Not(HasSubstr(consent)));
  }
  EXPECT_FALSE(decided[haven::v1::MEDICAL].allowed());
  EXPECT_EQ(decided[haven::v1::MEDICAL].reason(), haven::v1::NO_MATCHING_RULE);
  EXPECT_FALSE(decided[haven::v1::CASE_NOTES].allowed());
  EXPECT_EQ(decided[haven::v1::CASE_NOTES].reason(), haven::v1::DENIED_BY_RULE);
  EXPECT_EQ(decided[haven::v1::CASE_NOTES].rule(), "case-notes-stay-home");
  EXPECT_EQ(response.data_life_seconds(), kDataLifeSeconds);

  // The answer is the holder's, signed under its manifest key.
  auto answer = client::VerifySignedDisclosure(
      federation_->verifier_key(kHolder), response.signed_(), kHolder);
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_TRUE(answer->has_disclosure());
  const haven::v1::Disclosure& disclosure = answer->disclosure();
  // The same signature does not cover another answer.
  haven::v1::SignedDisclosure altered = response.signed_();
  altered.mutable_answer()->back() ^= 1;
  EXPECT_FALSE(client::VerifySignedDisclosure(
                   federation_->verifier_key(kHolder), altered, kHolder)
                   .ok());
  const std::string request_id = disclosure.request_id();
  ASSERT_FALSE(request_id.empty());

  // On record at both nodes, under the same request id.
  const auto holder_log = Entries(kHolder);
  const IndexedEntry* decided_entry =
      FindEntry(holder_log, response.holder_audit_index());
  ASSERT_NE(decided_entry, nullptr);
  EXPECT_EQ(decided_entry->entry().kind(), haven::v1::DISCLOSURE);
  EXPECT_EQ(decided_entry->entry().request_id(), request_id);
  EXPECT_EQ(decided_entry->entry().agency_id(), kLegalAid);
  EXPECT_THAT(decided_entry->entry().given(),
              UnorderedElementsAre(haven::v1::CONTACT, haven::v1::IMMIGRATION));
  EXPECT_EQ(decided_entry->entry().withheld_size(), 2);

  const auto requester_log = Entries(kLegalAid);
  const IndexedEntry* receipt =
      FindEntry(requester_log, response.receipt_audit_index());
  ASSERT_NE(receipt, nullptr);
  EXPECT_EQ(receipt->entry().kind(), haven::v1::DISCLOSURE_RECEIVED);
  EXPECT_EQ(receipt->entry().request_id(), request_id);
  EXPECT_EQ(receipt->entry().agency_id(), kHolder);
  EXPECT_THAT(receipt->entry().given(),
              UnorderedElementsAre(haven::v1::CONTACT, haven::v1::IMMIGRATION));

  EXPECT_THAT(Reconcile(holder_log, kHolder, requester_log, kLegalAid),
              IsEmpty());
}

TEST_F(ExchangeTest, HandleUsedByAnotherAgencyIsNotFoundLikeAnUnknownOne) {
  const std::string subject = CreateSurvivor();
  RecordConsent(subject, kLegalAid, haven::v1::LEGAL_REPRESENTATION,
                {haven::v1::CONTACT});
  const std::string handle = WaitForHandle(kLegalAid);
  ASSERT_FALSE(handle.empty());
  const std::string unknown =
      RandomHex(handle.size() / 2 + 1).substr(0, handle.size());

  haven::v1::RequestDisclosureResponse stolen_response;
  grpc::Status stolen =
      Request(kPolice, handle, haven::v1::LEGAL_REPRESENTATION,
              {haven::v1::CONTACT}, &stolen_response);
  haven::v1::RequestDisclosureResponse unknown_response;
  grpc::Status probed =
      Request(kPolice, unknown, haven::v1::LEGAL_REPRESENTATION,
              {haven::v1::CONTACT}, &unknown_response);
  haven::v1::RequestDisclosureResponse own_unknown_response;
  grpc::Status own_probe =
      Request(kLegalAid, unknown, haven::v1::LEGAL_REPRESENTATION,
              {haven::v1::CONTACT}, &own_unknown_response);

  EXPECT_EQ(stolen.error_code(), grpc::StatusCode::NOT_FOUND)
      << stolen.error_message();
  EXPECT_EQ(probed.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(own_probe.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(stolen.error_message(), probed.error_message());
  EXPECT_EQ(stolen.error_message(), own_probe.error_message());
  EXPECT_EQ(stolen_response.fields_size(), 0);

  // The handle still works for the agency it was issued to.
  haven::v1::RequestDisclosureResponse response;
  grpc::Status status =
      Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
              {haven::v1::CONTACT}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(FieldNames(response.fields()), UnorderedElementsAre("phone"));

  // Both refusals are on record at both nodes, and the holder's entries for
  // the stolen and the unknown handle read alike.
  const auto holder_log = Entries(kHolder);
  const auto police_log = Entries(kPolice);
  EXPECT_THAT(Reconcile(holder_log, kHolder, police_log, kPolice), IsEmpty());
  EXPECT_THAT(Reconcile(holder_log, kHolder, Entries(kLegalAid), kLegalAid),
              IsEmpty());
  std::vector<const haven::v1::AuditEntry*> refused;
  for (const auto& indexed : holder_log) {
    if (indexed.entry().kind() == haven::v1::REQUEST_REFUSED &&
        indexed.entry().agency_id() == kPolice) {
      refused.push_back(&indexed.entry());
    }
  }
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_EQ(refused[0]->detail(), refused[1]->detail());
  EXPECT_EQ(refused[0]->subject_pseudonym(), refused[1]->subject_pseudonym());
}

TEST_F(ExchangeTest, ReplayedOrStaleRequestIsRefused) {
  const std::string subject = CreateSurvivor();
  RecordConsent(subject, kLegalAid, haven::v1::LEGAL_REPRESENTATION,
                {haven::v1::CONTACT});
  const std::string handle = WaitForHandle(kLegalAid);
  ASSERT_FALSE(handle.empty());
  auto signer = SignerOf(kLegalAid);
  ASSERT_NE(signer, nullptr);
  auto peer = PeerStubAs(kLegalAid);

  const haven::v1::DisclosureRequest sent = NewPeerRequest(
      kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION, haven::v1::CONTACT);
  haven::v1::Disclosure disclosure;
  grpc::Status status = Disclose(*peer, *signer, sent, &disclosure);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(FieldNames(disclosure.fields()), UnorderedElementsAre("phone"));

  haven::v1::Disclosure replayed;
  status = Disclose(*peer, *signer, sent, &replayed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS)
      << status.error_message();
  EXPECT_EQ(replayed.fields_size(), 0);

  // The same request twice in one batch: the second is the replay.
  const haven::v1::DisclosureRequest twice = NewPeerRequest(
      kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION, haven::v1::CONTACT);
  std::vector<haven::v1::DisclosureAnswer> answers;
  status = DiscloseBatch(*peer, *signer, {twice, twice}, &answers);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_TRUE(answers[0].has_disclosure());
  ASSERT_TRUE(answers[1].has_refusal());
  EXPECT_EQ(answers[1].refusal().code(), grpc::StatusCode::ALREADY_EXISTS);

  for (int64_t skew : {-600, 600}) {
    haven::v1::DisclosureRequest stale = NewPeerRequest(
        kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION, haven::v1::CONTACT);
    stale.set_sent_unix(NowUnix() + skew);
    haven::v1::Disclosure refused;
    status = Disclose(*peer, *signer, stale, &refused);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << "skew " << skew << ": " << status.error_message();
    EXPECT_EQ(refused.fields_size(), 0);
  }
}

TEST_F(ExchangeTest, RequestBodyCannotClaimAnotherAgency) {
  const std::string subject = CreateSurvivor();
  RecordConsent(subject, kPolice, haven::v1::INVESTIGATION,
                {haven::v1::CONTACT});
  const std::string police_handle = WaitForHandle(kPolice);
  ASSERT_FALSE(police_handle.empty());
  auto legal_aid_key = SignerOf(kLegalAid);
  auto police_key = SignerOf(kPolice);
  ASSERT_NE(legal_aid_key, nullptr);
  ASSERT_NE(police_key, nullptr);
  auto peer = PeerStubAs(kLegalAid);

  // Legal-aid's certificate and key, a body naming metro-pd and metro-pd's
  // handle: refused, nothing disclosed.
  haven::v1::Disclosure disclosure;
  grpc::Status status =
      Disclose(*peer, *legal_aid_key,
               NewPeerRequest(kPolice, police_handle, haven::v1::INVESTIGATION,
                              haven::v1::CONTACT),
               &disclosure);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << status.error_message();
  EXPECT_EQ(disclosure.fields_size(), 0);

  // Signed with metro-pd's key over legal-aid's connection: the signature
  // is checked under legal-aid's manifest key and fails.
  status =
      Disclose(*peer, *police_key,
               NewPeerRequest(kPolice, police_handle, haven::v1::INVESTIGATION,
                              haven::v1::CONTACT),
               &disclosure);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << status.error_message();
  EXPECT_EQ(disclosure.fields_size(), 0);

  // Honest about being legal-aid, metro-pd's handle names nobody.
  status =
      Disclose(*peer, *legal_aid_key,
               NewPeerRequest(kLegalAid, police_handle,
                              haven::v1::INVESTIGATION, haven::v1::CONTACT),
               &disclosure);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
  EXPECT_EQ(disclosure.fields_size(), 0);

  // Nothing was disclosed to anyone.
  for (const auto& indexed : Entries(kHolder)) {
    EXPECT_NE(indexed.entry().kind(), haven::v1::DISCLOSURE)
        << indexed.entry().DebugString();
  }
}

TEST_F(ExchangeTest, EveryRequestStartedAfterRevokeReturnedIsRefused) {
  const std::string subject = CreateSurvivor();
  const std::string consent =
      RecordConsent(subject, kLegalAid, haven::v1::LEGAL_REPRESENTATION,
                    {haven::v1::CONTACT, haven::v1::IMMIGRATION});
  const std::string handle = WaitForHandle(kLegalAid);
  ASSERT_FALSE(handle.empty());

  struct Outcome {
    bool started_after_revoke = false;
    grpc::Status status;
    int fields = 0;
    int allowed = 0;
    std::vector<haven::v1::DecisionReason> reasons;
  };
  constexpr int kThreads = 4;
  constexpr int kRequestsAfterRevoke = 6;
  std::atomic<bool> revoked{false};
  std::atomic<int> started{0};
  std::mutex mu;
  std::vector<Outcome> outcomes;
  const auto give_up = In(std::chrono::seconds(40));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      int after = 0;
      while (after < kRequestsAfterRevoke &&
             std::chrono::system_clock::now() < give_up) {
        Outcome outcome;
        // Read before the call starts: true means revoke had returned.
        outcome.started_after_revoke = revoked.load();
        haven::v1::RequestDisclosureResponse response;
        outcome.status =
            Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                    {haven::v1::CONTACT, haven::v1::IMMIGRATION}, &response);
        outcome.fields = response.fields_size();
        outcome.allowed = AllowedCount(response.decision());
        for (const auto& c : response.decision().categories()) {
          outcome.reasons.push_back(c.reason());
        }
        if (outcome.started_after_revoke) ++after;
        started.fetch_add(1);
        std::lock_guard<std::mutex> lock(mu);
        outcomes.push_back(std::move(outcome));
      }
    });
  }
  // Let the requests get going, then revoke in the middle of them.
  while (started.load() < 2 * kThreads &&
         std::chrono::system_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  grpc::Status status = Revoke(consent);
  revoked.store(true);
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(status.ok()) << status.error_message();

  int before_disclosed = 0;
  int after_count = 0;
  for (const Outcome& outcome : outcomes) {
    if (!outcome.started_after_revoke) {
      if (outcome.status.ok() && outcome.fields > 0) ++before_disclosed;
      continue;
    }
    ++after_count;
    if (!outcome.status.ok()) continue;  // an error is a refusal too
    EXPECT_EQ(outcome.fields, 0);
    EXPECT_EQ(outcome.allowed, 0);
    for (auto reason : outcome.reasons) {
      EXPECT_EQ(reason, haven::v1::CONSENT_IS_REVOKED)
          << DecisionReason_Name(reason);
    }
  }
  EXPECT_GE(before_disclosed, 1);
  EXPECT_EQ(after_count, kThreads * kRequestsAfterRevoke);

  // However they raced, every request is on record at both nodes.
  EXPECT_THAT(
      Reconcile(Entries(kHolder), kHolder, Entries(kLegalAid), kLegalAid),
      IsEmpty());
}

// The holder keeps what it owes a peer: a grantee that was down when the
// consent was recorded gets its handle once it is back, and can use it.
TEST_F(ExchangeTest, GranteeThatWasDownGetsItsHandleWhenItIsBack) {
  TestNode& legal_aid = federation_->node(kLegalAid);
  ASSERT_EQ(legal_aid.Stop(), 0);
  const std::string subject = CreateSurvivor();
  RecordConsent(subject, kLegalAid, haven::v1::LEGAL_REPRESENTATION,
                {haven::v1::CONTACT});

  // The first attempt fails while legal-aid is down.
  const TestNode& holder = federation_->node(kHolder);
  const auto give_up = In(std::chrono::seconds(15));
  while (holder.Log().find("handle_send_failed") == std::string::npos &&
         std::chrono::system_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(holder.Log().find("handle_send_failed"), std::string::npos)
      << holder.Log();

  std::string error;
  ASSERT_TRUE(legal_aid.Start(&error)) << error;
  Connect(kLegalAid);
  // legal-aid's first witness round exchanges checkpoints with the holder,
  // which then delivers what it holds for legal-aid.
  const std::string handle = WaitForHandle(kLegalAid);
  ASSERT_FALSE(handle.empty());
  haven::v1::RequestDisclosureResponse response;
  grpc::Status status =
      Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
              {haven::v1::CONTACT}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.fields_size(), 1);
  EXPECT_EQ(response.fields(0).value(), "555-0100 (after 6pm)");
}

TEST_F(ExchangeTest, GranteeIsNotifiedOfRevocation) {
  const std::string subject = CreateSurvivor();
  const std::string consent =
      RecordConsent(subject, kLegalAid, haven::v1::LEGAL_REPRESENTATION,
                    {haven::v1::CONTACT});
  const std::string handle = WaitForHandle(kLegalAid);
  ASSERT_FALSE(handle.empty());

  std::optional<haven::v1::RevocationNotice> notice =
      RevokeWatching(kLegalAid, consent, handle);
  ASSERT_TRUE(notice.has_value()) << "no notice streamed within 10 s";
  EXPECT_EQ(notice->holder_agency_id(), kHolder);
  EXPECT_EQ(notice->handle(), handle);
  EXPECT_EQ(notice->change(), "revoked");
  EXPECT_EQ(notice->consent_id(), ConsentRefFor(kLegalAid, consent));
  // The consent was the only one for legal-aid: its handle is withdrawn.
  EXPECT_TRUE(notice->handle_withdrawn());

  // The notice is on record at the grantee by the time it is streamed.
  int notices = 0;
  for (const auto& indexed : Entries(kLegalAid)) {
    if (indexed.entry().kind() == haven::v1::REVOCATION_NOTICE_RECEIVED) {
      ++notices;
    }
  }
  EXPECT_EQ(notices, 1);

  // And the next request is refused: the handle names no one any more,
  // exactly as an unknown handle would.
  haven::v1::RequestDisclosureResponse response;
  grpc::Status status =
      Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
              {haven::v1::CONTACT}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(response.fields_size(), 0);
}

TEST_F(ExchangeTest, HolderDecisionsAndRequesterReceiptsPairUp) {
  const std::string subject = CreateSurvivor();
  const std::string consent =
      RecordConsent(subject, kLegalAid, haven::v1::LEGAL_REPRESENTATION,
                    {haven::v1::CONTACT, haven::v1::IMMIGRATION});
  RecordConsent(subject, kPolice, haven::v1::SAFETY_PLANNING,
                {haven::v1::CONTACT});
  const std::string handle = WaitForHandle(kLegalAid);
  const std::string police_handle = WaitForHandle(kPolice);
  ASSERT_FALSE(handle.empty());
  ASSERT_FALSE(police_handle.empty());

  haven::v1::RequestDisclosureResponse response;
  // Disclosed.
  EXPECT_TRUE(Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                      {haven::v1::CONTACT}, &response)
                  .ok());
  // Everything withheld.
  EXPECT_TRUE(Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                      {haven::v1::MEDICAL}, &response)
                  .ok());
  // Refused before any policy: no such handle.
  EXPECT_EQ(Request(kLegalAid, RandomHex(16), haven::v1::LEGAL_REPRESENTATION,
                    {haven::v1::CONTACT}, &response)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Police for an investigation, with consent only for safety planning:
  // nothing, and no immigration status whatever the consent says.
  response.Clear();
  EXPECT_TRUE(Request(kPolice, police_handle, haven::v1::INVESTIGATION,
                      {haven::v1::CONTACT, haven::v1::IMMIGRATION}, &response)
                  .ok());
  EXPECT_EQ(response.fields_size(), 0);
  EXPECT_EQ(AllowedCount(response.decision()), 0);
  // After the revocation (its handle withdrawn).
  ASSERT_TRUE(Revoke(consent).ok());
  EXPECT_EQ(Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                    {haven::v1::CONTACT}, &response)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);

  auto holder_log = Entries(kHolder);
  const auto legal_aid_log = Entries(kLegalAid);
  EXPECT_THAT(Reconcile(holder_log, kHolder, legal_aid_log, kLegalAid),
              IsEmpty());
  EXPECT_THAT(Reconcile(holder_log, kHolder, Entries(kPolice), kPolice),
              IsEmpty());
  int paired = 0;
  for (const auto& indexed : legal_aid_log) {
    paired += indexed.entry().agency_id() == kHolder &&
              !indexed.entry().request_id().empty();
  }
  EXPECT_EQ(paired, 4);

  // A disclosure the requester's node never recorded (legal-aid's key and
  // certificate used behind its node's back) is reported as unpaired.
  auto signer = SignerOf(kLegalAid);
  ASSERT_NE(signer, nullptr);
  auto peer = PeerStubAs(kLegalAid);
  const haven::v1::DisclosureRequest off_book = NewPeerRequest(
      kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION, haven::v1::CONTACT);
  haven::v1::Disclosure ignored;
  (void)Disclose(*peer, *signer, off_book, &ignored);
  holder_log = Entries(kHolder);
  EXPECT_THAT(Reconcile(holder_log, kHolder, legal_aid_log, kLegalAid),
              UnorderedElementsAre(absl::StrCat("unpaired at ", kHolder, ": ",
                                                off_book.request_id())));
}

// Every value a message holds, by path ("disclosure.decision.categories.
// consent_id"), descending into the holder's audit leaf and signed answer.
// Strings and bytes are kept whole; integers only from 100000 on (times,
// data lives), as small counters and indexes coincide by chance and name
// nothing.
void CollectValues(const google::protobuf::Message& message,
                   const std::string& path,
                   std::map<std::string, std::string>* values) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const auto* field : fields) {
    const std::string at = path + "." + field->name();
    const int n =
        field->is_repeated() ? reflection->FieldSize(message, field) : 1;
    for (int i = 0; i < n; ++i) {
      using FD = google::protobuf::FieldDescriptor;
      const bool rep = field->is_repeated();
      switch (field->cpp_type()) {
        case FD::CPPTYPE_MESSAGE:
          CollectValues(rep ? reflection->GetRepeatedMessage(message, field, i)
                            : reflection->GetMessage(message, field),
                        at, values);
          break;
        case FD::CPPTYPE_STRING: {
          const std::string value =
              rep ? reflection->GetRepeatedString(message, field, i)
                  : reflection->GetString(message, field);
          if (field->name() == "audit_leaf") {
            haven::v1::AuditEntry leaf;
            EXPECT_TRUE(leaf.ParseFromString(value)) << at;
            CollectValues(leaf, at, values);
          } else if (field->name() == "answer") {
            haven::v1::DisclosureAnswer answer;
            EXPECT_TRUE(answer.ParseFromString(value)) << at;
            CollectValues(answer, at, values);
          }
          if (!value.empty()) values->emplace(value, at);
          break;
        }
        case FD::CPPTYPE_INT64:
        case FD::CPPTYPE_UINT64: {
          const int64_t value =
              field->cpp_type() == FD::CPPTYPE_INT64
                  ? (rep ? reflection->GetRepeatedInt64(message, field, i)
                         : reflection->GetInt64(message, field))
                  : static_cast<int64_t>(
                        rep ? reflection->GetRepeatedUInt64(message, field, i)
                            : reflection->GetUInt64(message, field));
          if (value >= 100000) values->emplace(absl::StrCat(value), at);
          break;
        }
        default:
          break;  // enums, booleans, small integers
      }
    }
  }
}

// Grantee-scoped handles exist so that two agencies holding one survivor's
// handles cannot tell it is one survivor. Everything each receives about
// her - handle, answers with the holder's audit leaf, notices, and its own
// log's entries about them - is compared: nothing may be common but the
// field values disclosed, the holder's public checkpoint and proof, and
// the agency ids of the public manifest.
TEST_F(ExchangeTest, TwoGranteesOfOneSurvivorShareNothingThatLinksThem) {
  const std::string subject = CreateSurvivor();
  struct Grantee {
    const char* agency;
    Purpose purpose;
    int64_t data_life;
    std::string consent;
    std::string handle;
    std::map<std::string, std::string> values;  // value -> where
  };
  // Consents a second apart, so that handle and notice times differ: a
  // holder acting for one survivor at one moment is a timing signal this
  // test does not claim to hide.
  Grantee grantees[2] = {
      {kLegalAid, haven::v1::LEGAL_REPRESENTATION, 30 * 86400, "", "", {}},
      {kPolice, haven::v1::INVESTIGATION, 20 * 86400, "", "", {}}};
  for (Grantee& g : grantees) {
    g.consent = RecordConsent(subject, g.agency, g.purpose,
                              {haven::v1::CONTACT}, g.data_life);
    ASSERT_FALSE(g.consent.empty());
    g.handle = WaitForHandle(g.agency);
    ASSERT_FALSE(g.handle.empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  }
  for (Grantee& g : grantees) {
    auto stub = haven::v1::ExchangeService::NewStub(channel(g.agency));
    haven::v1::ListHandlesResponse handles;
    ASSERT_TRUE(stub->ListHandles(Call(g.agency, "caseworker").get(),
                                  haven::v1::ListHandlesRequest(), &handles)
                    .ok());
    CollectValues(handles, "handles", &g.values);
    haven::v1::RequestDisclosureResponse response;
    grpc::Status status =
        Request(g.agency, g.handle, g.purpose, {haven::v1::CONTACT}, &response);
    ASSERT_TRUE(status.ok()) << g.agency << ": " << status.error_message();
    ASSERT_EQ(response.fields_size(), 1) << g.agency;
    // The disclosed fields themselves are what both were meant to get.
    response.clear_fields();
    haven::v1::DisclosureAnswer answer;
    ASSERT_TRUE(answer.ParseFromString(response.signed_().answer()));
    answer.mutable_disclosure()->clear_fields();
    answer.mutable_disclosure()->clear_checkpoint();
    answer.mutable_disclosure()->clear_inclusion_proof();
    response.mutable_signed_()->clear_answer();
    response.mutable_signed_()->clear_batch_sha256();  // hashes of the above
    CollectValues(response, "response", &g.values);
    CollectValues(answer, "answer", &g.values);
  }
  // Each is told when its consent ends.
  for (Grantee& g : grantees) {
    std::optional<haven::v1::RevocationNotice> notice =
        RevokeWatching(g.agency, g.consent, g.handle);
    ASSERT_TRUE(notice.has_value()) << g.agency << ": no notice within 10 s";
    CollectValues(*notice, "notice", &g.values);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  }
  // What each grantee's own log says about the exchange.
  for (Grantee& g : grantees) {
    for (const IndexedEntry& indexed : Entries(g.agency)) {
      const EntryKind kind = indexed.entry().kind();
      if (kind == haven::v1::HANDLE_RECEIVED ||
          kind == haven::v1::DISCLOSURE_RECEIVED ||
          kind == haven::v1::REVOCATION_NOTICE_RECEIVED) {
        CollectValues(indexed.entry(), "own_log", &g.values);
      }
    }
  }
  ASSERT_GT(grantees[0].values.size(), 20u);

  // Common to both and to every answer about anyone: the agency ids of the
  // public manifest, the holder's policy version, and the words a notice
  // uses for a change.
  std::set<std::string> public_values = {kHolder, kLegalAid, kPolice};
  for (const std::string change :
       {"revoked", "paused", "refused", "withdrawn"}) {
    public_values.insert(change);
    public_values.insert("consent " + change);
  }
  for (const auto& [value, where] : grantees[0].values) {
    if (absl::EndsWith(where, ".policy_version")) public_values.insert(value);
  }
  for (const auto& [value, where] : grantees[0].values) {
    if (public_values.count(value) > 0) continue;
    auto other = grantees[1].values.find(value);
    EXPECT_TRUE(other == grantees[1].values.end())
        << "'" << absl::CEscape(value) << "' reached " << kLegalAid << " at "
        << where << " and " << kPolice << " at " << other->second;
  }
  // Neither saw the holder's ids.
  for (const Grantee& g : grantees) {
    for (const std::string& internal :
         {subject, grantees[0].consent, grantees[1].consent}) {
      EXPECT_EQ(g.values.count(internal), 0u) << g.agency;
    }
  }
}

// What a peer is told when the subject behind its handle is gone is the
// fixed refusal of an unknown handle: no subject or record id, no path, no
// library text, in the answer or in any entry of either log.
TEST_F(ExchangeTest, NothingInternalReachesAPeer) {
  const std::string subject = CreateSurvivor();
  const std::string consent =
      RecordConsent(subject, kLegalAid, haven::v1::LEGAL_REPRESENTATION,
                    {haven::v1::CONTACT});
  const std::string handle = WaitForHandle(kLegalAid);
  ASSERT_FALSE(handle.empty());
  haven::v1::RequestDisclosureResponse response;
  ASSERT_TRUE(Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                      {haven::v1::CONTACT}, &response)
                  .ok());

  auto records = haven::v1::RecordService::NewStub(channel(kHolder));
  haven::v1::EraseSubjectRequest erase;
  erase.set_subject_id(subject);
  erase.set_reason("survivor asked to be forgotten");
  haven::v1::EraseSubjectResponse erased;
  grpc::Status status =
      records->EraseSubject(Call(kHolder, "caseworker").get(), erase, &erased);
  ASSERT_TRUE(status.ok()) << status.error_message();

  status = Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                   {haven::v1::CONTACT}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  // Exactly what an unknown handle gets.
  haven::v1::RequestDisclosureResponse unknown;
  grpc::Status unknown_status =
      Request(kLegalAid, RandomHex(16), haven::v1::LEGAL_REPRESENTATION,
              {haven::v1::CONTACT}, &unknown);
  EXPECT_EQ(unknown_status.error_code(), status.error_code());
  EXPECT_EQ(unknown_status.error_message(), status.error_message());

  // The node's files (its data dir among them) are under its dir.
  const std::string data_dir = federation_->node(kHolder).dir();
  // The holder's own log may name the consent; nothing a peer sees may.
  const std::vector<std::string> internal = {subject, data_dir, "rocksdb",
                                             "RocksDB", "IO error"};
  EXPECT_THAT(status.error_message(), Not(HasSubstr(consent)));
  for (const std::string& secret : internal) {
    EXPECT_THAT(status.error_message(), Not(HasSubstr(secret)));
  }
  for (const char* agency : {kHolder, kLegalAid}) {
    for (const IndexedEntry& indexed : Entries(agency)) {
      for (const std::string& secret : internal) {
        EXPECT_THAT(indexed.leaf(), Not(HasSubstr(secret)))
            << agency << " entry " << indexed.index();
      }
      if (agency == std::string(kLegalAid)) {
        EXPECT_THAT(indexed.leaf(), Not(HasSubstr(consent)));
      }
    }
  }
}

// Break-glass is the one path past a survivor's refusal: it needs a real
// reason, and every use is listed for the task force's review.
TEST_F(ExchangeTest, BreakGlassNeedsAReasonAndWaitsForAnAuditorsSignOff) {
  const std::string subject = CreateSurvivor();
  RecordConsent(subject, kPolice, haven::v1::INVESTIGATION,
                {haven::v1::CONTACT});
  const std::string handle = WaitForHandle(kPolice);
  ASSERT_FALSE(handle.empty());

  haven::v1::RequestDisclosureResponse response;
  for (const std::string weak : {"", " ", "urgent", "....................."}) {
    grpc::Status status = Request(kPolice, handle, haven::v1::EMERGENCY,
                                  {haven::v1::CONTACT}, &response, weak);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << "'" << weak << "': " << status.error_message();
    EXPECT_EQ(response.fields_size(), 0);
  }
  const std::string reason =
      "caller reports the survivor is held at an unknown address tonight";
  grpc::Status status = Request(kPolice, handle, haven::v1::EMERGENCY,
                                {haven::v1::CONTACT}, &response, reason);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.fields_size(), 1);
  ASSERT_EQ(response.decision().categories_size(), 1);
  EXPECT_TRUE(response.decision().categories(0).break_glass());

  // The holder's auditor lists it for review, with the reason.
  auto audit = haven::v1::AuditService::NewStub(channel(kHolder));
  haven::v1::FindEntriesRequest find;
  find.set_break_glass(true);
  haven::v1::FindEntriesResponse found;
  status = audit->FindEntries(Call(kHolder, "auditor").get(), find, &found);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(found.entries_size(), 1);
  EXPECT_EQ(found.entries(0).index(), response.holder_audit_index());
  EXPECT_EQ(found.entries(0).entry().kind(), haven::v1::DISCLOSURE);
  EXPECT_EQ(found.entries(0).entry().agency_id(), kPolice);
  EXPECT_EQ(found.entries(0).entry().justification(), reason);
  std::string out;
  ASSERT_EQ(federation_->node(kHolder).Havenctl("auditor",
                                                {"audit", "break-glass"}, &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr(reason));
  EXPECT_THAT(out, HasSubstr(kPolice));

  // It waits in the review queue until an auditor signs it off with a
  // note; the sign-off is a logged entry, once per decision.
  TestNode& holder = federation_->node(kHolder);
  const std::string index = absl::StrCat(response.holder_audit_index());
  ASSERT_EQ(holder.Havenctl("auditor", {"audit", "review"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("entry " + index + " "));
  EXPECT_THAT(out, HasSubstr("PENDING REVIEW"));
  const std::string note = "confirmed with the duty officer: a real emergency";
  EXPECT_EQ(holder.Havenctl(
                "caseworker",
                {"audit", "sign-off", "--index", index, "--note", note}, &out),
            1)
      << out;
  EXPECT_EQ(holder.Havenctl(
                "auditor",
                {"audit", "sign-off", "--index", index, "--note", "ok"}, &out),
            1)
      << out;
  EXPECT_EQ(holder.Havenctl(
                "auditor",
                {"audit", "sign-off", "--index", "0", "--note", note}, &out),
            1)
      << out;
  EXPECT_THAT(out, HasSubstr("not a break-glass decision"));
  ASSERT_EQ(holder.Havenctl("auditor",
                            {"audit", "sign-off", "--index", index, "--note",
                             note, "--json"},
                            &out),
            0)
      << out;
  std::smatch match;
  ASSERT_TRUE(
      std::regex_search(out, match, std::regex("\"audit_index\":([0-9]+)")))
      << out;
  const std::string sign_off = match[1];
  EXPECT_EQ(holder.Havenctl(
                "auditor",
                {"audit", "sign-off", "--index", index, "--note", note}, &out),
            1)
      << out;
  EXPECT_THAT(out, HasSubstr("signed off in entry " + sign_off));
  ASSERT_EQ(holder.Havenctl("auditor", {"audit", "review"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("no break-glass decision awaits review"));
  ASSERT_EQ(holder.Havenctl("auditor", {"audit", "review", "--all"}, &out), 0)
      << out;
  EXPECT_THAT(out, HasSubstr("signed off by safe-harbor-auditor"));
  EXPECT_THAT(out, HasSubstr("(entry " + sign_off + "): " + note));
  ASSERT_EQ(holder.Havenctl("auditor", {"audit", "tail", "--json"}, &out), 0)
      << out;
  EXPECT_THAT(out, HasSubstr("BREAK_GLASS_REVIEWED"));
}

}  // namespace
}  // namespace haven::testing

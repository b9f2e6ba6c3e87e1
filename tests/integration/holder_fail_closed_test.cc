// The holder side of an exchange, in process with real modules (vault,
// consent registry, policy, audit log) and an audit store that fails on
// demand: when the log cannot be written, nothing is disclosed.
#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/verify/signed_batch.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/audit/audit_log.h"
#include "server/audit/audit_recorder.h"
#include "server/consent/consent_registry.h"
#include "server/crypto/ed25519_signer.h"
#include "server/exchange/holder.h"
#include "server/exchange/signing.h"
#include "server/services/audit_service.h"
#include "tests/testing/in_process_holder.h"
#include "tests/testing/status_matchers.h"

namespace haven::server::exchange {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int64_t kNow = haven::testing::InProcessHolder::kNow;

class HolderFailClosedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = haven::testing::InProcessHolder::Create();
    ASSERT_THAT(created, IsOk());
    in_process_ = *std::move(created);
    holder_ = &in_process_->holder();
    log_ = &in_process_->log();
    storage_ = &in_process_->storage();
    consents_ = &in_process_->consents();
    recorder_ = &in_process_->recorder();
    holder_signer_ = &in_process_->holder_signer();
    peer_signer_ = &in_process_->peer_signer();
    peer_ = in_process_->peer_member();
    ASSERT_THAT(
        in_process_->AddConsentedSurvivor("555-0100", &subject_, &handle_),
        IsOk());
  }

  haven::v1::DisclosureRequest NewRequest(const std::string& id) const {
    haven::v1::DisclosureRequest request;
    request.set_request_id(id);
    request.set_sent_unix(kNow);
    request.set_requester_agency_id("legal-aid");
    request.set_handle(handle_);
    request.set_purpose(haven::v1::LEGAL_REPRESENTATION);
    request.add_categories(haven::v1::CONTACT);
    request.set_requester_principal("caseworker");
    return request;
  }

  // `requests` as one batch signed by `signer` (the peer's key by default).
  haven::v1::DiscloseRequest Batch(
      const std::vector<haven::v1::DisclosureRequest>& requests,
      const crypto::Ed25519Signer* signer = nullptr) const {
    haven::v1::DiscloseRequest batch;
    for (const auto& r : requests) batch.add_requests(Deterministic(r));
    batch.set_signature(SignBatch(signer ? *signer : *peer_signer_,
                                  client::kRequestBatchContext,
                                  batch.requests()));
    return batch;
  }
  haven::v1::DiscloseRequest Request(const std::string& id) const {
    return Batch({NewRequest(id)});
  }

  // The answers of `response`, checked against the holder's batch signature.
  std::vector<haven::v1::DisclosureAnswer> Answers(
      const haven::v1::DiscloseResponse& response) const {
    EXPECT_THAT(client::VerifyBatchSignature(
                    log_->VerifierKey(), client::kAnswerBatchContext,
                    client::BatchDigests(response.answers()),
                    response.signature(), "safe-harbor"),
                IsOk());
    std::vector<haven::v1::DisclosureAnswer> answers;
    for (const std::string& bytes : response.answers()) {
      EXPECT_TRUE(answers.emplace_back().ParseFromString(bytes));
    }
    return answers;
  }

  std::unique_ptr<haven::testing::InProcessHolder> in_process_;
  Holder* holder_ = nullptr;
  audit::AuditLog* log_ = nullptr;
  haven::testing::FaultInjectingStorage* storage_ = nullptr;
  consent::ConsentRegistry* consents_ = nullptr;
  const audit::AuditRecorder* recorder_ = nullptr;
  const crypto::Ed25519Signer* holder_signer_ = nullptr;
  const crypto::Ed25519Signer* peer_signer_ = nullptr;
  haven::v1::Member peer_;
  std::string subject_;
  std::string handle_;
};

TEST_F(HolderFailClosedTest, DisclosesWhenTheLogIsWritable) {
  auto response = holder_->Disclose(peer_, Request("r1"));
  ASSERT_THAT(response, IsOk());
  auto answers = Answers(*response);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].request_id(), "r1");
  ASSERT_TRUE(answers[0].has_disclosure());
  const haven::v1::Disclosure& disclosure = answers[0].disclosure();
  ASSERT_EQ(disclosure.fields_size(), 1);
  EXPECT_EQ(disclosure.fields(0).value(), "555-0100");
  EXPECT_EQ(log_->Size(), disclosure.audit_index() + 1);
}

TEST_F(HolderFailClosedTest, EachRequestOfABatchIsDecidedOnItsOwn) {
  auto replayed = NewRequest("m1");
  auto claims_other_agency = NewRequest("m3");
  claims_other_agency.set_requester_agency_id("metro-pd");
  auto unknown_handle = NewRequest("m4");
  unknown_handle.set_handle("00112233445566778899aabbccddeeff");
  auto medical_only = NewRequest("m5");
  medical_only.clear_categories();
  medical_only.add_categories(haven::v1::MEDICAL);
  const uint64_t size_before = log_->Size();
  const int64_t batches_before = log_->batches();

  auto response = holder_->Disclose(
      peer_, Batch({NewRequest("m1"), replayed, claims_other_agency,
                    unknown_handle, medical_only}));
  ASSERT_THAT(response, IsOk());
  auto answers = Answers(*response);
  ASSERT_EQ(answers.size(), 5u);
  EXPECT_EQ(answers[0].request_id(), "m1");
  ASSERT_TRUE(answers[0].has_disclosure());
  EXPECT_EQ(answers[0].disclosure().fields_size(), 1);
  ASSERT_TRUE(answers[1].has_refusal());
  EXPECT_EQ(answers[1].refusal().code(),
            static_cast<int>(absl::StatusCode::kAlreadyExists));
  ASSERT_TRUE(answers[2].has_refusal());
  EXPECT_EQ(answers[2].refusal().code(),
            static_cast<int>(absl::StatusCode::kPermissionDenied));
  ASSERT_TRUE(answers[3].has_refusal());
  EXPECT_EQ(answers[3].refusal().code(),
            static_cast<int>(absl::StatusCode::kNotFound));
  // Nothing allowed: an answer with the reasons and no fields.
  EXPECT_EQ(answers[4].request_id(), "m5");
  ASSERT_TRUE(answers[4].has_disclosure());
  EXPECT_EQ(answers[4].disclosure().fields_size(), 0);
  ASSERT_EQ(answers[4].disclosure().decision().categories_size(), 1);
  EXPECT_FALSE(answers[4].disclosure().decision().categories(0).allowed());

  // Every decision is on record, in request order, in one commit.
  EXPECT_EQ(log_->Size(), size_before + 5);
  EXPECT_EQ(log_->batches(), batches_before + 1);
  auto entries = log_->GetEntries(size_before, 5);
  ASSERT_THAT(entries, IsOk());
  const std::vector<haven::v1::EntryKind> kinds = {
      haven::v1::DISCLOSURE, haven::v1::REQUEST_REFUSED,
      haven::v1::REQUEST_REFUSED, haven::v1::REQUEST_REFUSED,
      haven::v1::REQUEST_REFUSED};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ((*entries)[i].entry().kind(), kinds[i]) << i;
    EXPECT_EQ((*entries)[i].entry().request_id(), answers[i].request_id());
  }
  EXPECT_EQ(answers[0].disclosure().audit_index(), size_before);
}

TEST_F(HolderFailClosedTest, FailingLogStorageDisclosesNothing) {
  uint64_t size_before = log_->Size();
  storage_->FailWriteAt(storage_->writes());
  auto answer = holder_->Disclose(peer_, Request("r2"));
  EXPECT_THAT(answer, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(log_->Size(), size_before);
  // Fail-stop: the node answers nothing more until it has restarted.
  EXPECT_THAT(holder_->Disclose(peer_, Request("r3")),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(HolderFailClosedTest, FailingSyncDisclosesNothing) {
  storage_->FailSyncAt(storage_->writes());
  EXPECT_THAT(holder_->Disclose(peer_, Request("r3")),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(storage_->stopped());
}

// A consent revoked (or a refusal recorded) between a request's decision
// and its commit: the request is refused there, on record, and takes no use.
TEST_F(HolderFailClosedTest, ConsentChangedWhileDecidingRefusesTheRequest) {
  const std::string id = consents_->List(subject_).consents(0).consent_id();
  // Hold the decision open by deciding from a snapshot taken before the
  // revocation: the holder claims uses on that generation.
  const uint64_t before = consents_->Snapshot(subject_)->generation;
  ASSERT_THAT(consents_->Revoke(id, "survivor asked", "adv"), IsOk());
  consent::ConsentRegistry::UseClaim stale{subject_, before, {id}};
  absl::Status claimed;
  consents_->ClaimUses({stale}, kNow,
                       [&](std::vector<absl::Status> r, storage::WriteBatch) {
                         claimed = r[0];
                       });
  EXPECT_THAT(claimed, StatusIs(absl::StatusCode::kFailedPrecondition));
  // And through the holder: the handle was withdrawn with the consent.
  auto response = holder_->Disclose(peer_, Request("late"));
  ASSERT_THAT(response, IsOk());
  auto answers = Answers(*response);
  ASSERT_TRUE(answers[0].has_refusal());
  EXPECT_EQ(answers[0].refusal().code(),
            static_cast<int>(absl::StatusCode::kNotFound));
  EXPECT_EQ(consents_->List(subject_).consents(0).use_count(), 0u);
}

TEST_F(HolderFailClosedTest, BatchSignedByAnotherKeyIsRefusedOnRecord) {
  const uint64_t size_before = log_->Size();
  auto batch = Batch({NewRequest("r5"), NewRequest("r6")}, holder_signer_);
  EXPECT_THAT(holder_->Disclose(peer_, batch),
              StatusIs(absl::StatusCode::kUnauthenticated));
  // Logged as one refusal from the certified agency, with nothing taken
  // from the unverified body.
  ASSERT_EQ(log_->Size(), size_before + 1);
  auto entries = log_->GetEntries(size_before, 1);
  ASSERT_THAT(entries, IsOk());
  const haven::v1::AuditEntry& entry = (*entries)[0].entry();
  EXPECT_EQ(entry.kind(), haven::v1::REQUEST_REFUSED);
  EXPECT_EQ(entry.agency_id(), peer_.agency_id());
  EXPECT_THAT(entry.detail(), HasSubstr("UNAUTHENTICATED"));
  EXPECT_TRUE(entry.request_id().empty());
  EXPECT_TRUE(entry.justification().empty());

  // An empty batch and one of more than 64 requests are refused and logged
  // the same way.
  EXPECT_THAT(holder_->Disclose(peer_, Batch({})),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<haven::v1::DisclosureRequest> too_many;
  for (int i = 0; i <= client::kMaxRequestBatch; ++i) {
    too_many.push_back(NewRequest(absl::StrCat("big", i)));
  }
  EXPECT_THAT(holder_->Disclose(peer_, Batch(too_many)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(log_->Size(), size_before + 3);

  // A signed request that does not parse is refused on its own, on record.
  haven::v1::DiscloseRequest garbled;
  garbled.add_requests("\xff\xff not a request");
  garbled.set_signature(SignBatch(*peer_signer_, client::kRequestBatchContext,
                                  garbled.requests()));
  auto response = holder_->Disclose(peer_, garbled);
  ASSERT_THAT(response, IsOk());
  auto answers = Answers(*response);
  ASSERT_EQ(answers.size(), 1u);
  ASSERT_TRUE(answers[0].has_refusal());
  EXPECT_EQ(answers[0].refusal().code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(log_->Size(), size_before + 4);
}

TEST_F(HolderFailClosedTest, AccessReportListsOnlyThatSubjectsExchanges) {
  // A second survivor, also consented to legal-aid.
  std::string other;
  std::string other_handle;
  ASSERT_THAT(
      in_process_->AddConsentedSurvivor("555-0199", &other, &other_handle),
      IsOk());

  // Two disclosures and one refusal about the first subject, one
  // disclosure about the other.
  ASSERT_THAT(holder_->Disclose(peer_, Request("a1")), IsOk());
  ASSERT_THAT(holder_->Disclose(peer_, Request("a2")), IsOk());
  auto refused = NewRequest("a3");
  refused.clear_categories();
  refused.add_categories(haven::v1::MEDICAL);
  ASSERT_THAT(holder_->Disclose(peer_, Batch({refused})), IsOk());
  handle_ = other_handle;
  ASSERT_THAT(holder_->Disclose(peer_, Request("b1")), IsOk());

  services::RpcEnv env;
  services::AuditServiceImpl audit_service(
      env, services::AuditServiceImpl::Deps{recorder_});
  haven::v1::SubjectAccessReportRequest request;
  request.set_subject_id(subject_);
  haven::v1::SubjectAccessReportResponse report;
  ASSERT_THAT(audit_service.DoSubjectAccessReport(
                  {"advocate", haven::v1::ADVOCATE}, request, &report),
              IsOk());
  std::vector<std::string> request_ids;
  std::vector<haven::v1::AuditEntry> exchanges;
  std::set<haven::v1::EntryKind> local_kinds;
  for (const auto& e : report.entries()) {
    const haven::v1::EntryKind kind = e.entry().kind();
    if (kind != haven::v1::DISCLOSURE && kind != haven::v1::REQUEST_REFUSED) {
      // Her own agency's acts (record written, consent, handle issued)
      // carry the node-wide pseudonym.
      EXPECT_EQ(e.entry().subject_pseudonym(), recorder_->Pseudonym(subject_));
      EXPECT_EQ(e.entry().agency_id(), "safe-harbor");
      local_kinds.insert(kind);
      continue;
    }
    // Named as legal-aid's leaves name it, which is not the node-wide
    // pseudonym.
    EXPECT_EQ(e.entry().subject_pseudonym(),
              recorder_->PseudonymFor("legal-aid",
                                      recorder_->Pseudonym(subject_)));
    EXPECT_NE(e.entry().subject_pseudonym(), recorder_->Pseudonym(subject_));
    EXPECT_EQ(e.entry().agency_id(), "legal-aid");
    request_ids.push_back(e.entry().request_id());
    exchanges.push_back(e.entry());
  }
  EXPECT_THAT(request_ids, ::testing::ElementsAre("a1", "a2", "a3"));
  EXPECT_THAT(local_kinds, ::testing::Contains(haven::v1::CONSENT_RECORDED));
  ASSERT_EQ(exchanges.size(), 3u);
  EXPECT_EQ(exchanges[2].kind(), haven::v1::REQUEST_REFUSED);
  ASSERT_EQ(exchanges[2].withheld_size(), 1);
  EXPECT_EQ(exchanges[2].withheld(0).category(), haven::v1::MEDICAL);
}

}  // namespace
}  // namespace haven::server::exchange

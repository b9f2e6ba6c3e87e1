// The holder side of an exchange, in process with real modules (vault,
// consent registry, policy, audit log) and an audit store that fails on
// demand: when the log cannot be written, nothing is disclosed.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/verify/signed_note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/clock.h"
#include "policy/loader.h"
#include "policy/policy_holder.h"
#include "server/audit/audit_log.h"
#include "server/audit/audit_recorder.h"
#include "server/audit/audit_store.h"
#include "server/consent/consent_registry.h"
#include "server/consent/consent_store.h"
#include "server/crypto/ed25519_signer.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/holder.h"
#include "server/exchange/replay_guard.h"
#include "server/exchange/signing.h"
#include "server/services/audit_service.h"
#include "server/storage/database.h"
#include "server/vault/record_vault.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_node.h"

namespace haven::server::exchange {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1'790'000'000;

std::unique_ptr<crypto::Ed25519Signer> Signer(uint8_t fill) {
  crypto::SecretBytes seed(crypto::Ed25519Signer::kSeedSize);
  for (size_t i = 0; i < seed.size(); ++i) seed.mutable_data()[i] = fill;
  return *crypto::Ed25519Signer::FromSeed(seed);
}

class HolderFailClosedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::Database::Options db_options;
    db_options.path = dir_.Join("db");
    db_ = *storage::Database::Open(std::move(db_options));
    vault::RecordVault::Options vault_options;
    vault_options.db = db_.get();
    vault_options.master_key = crypto::SecretBytes::Random(32);
    vault_ = *vault::RecordVault::Create(std::move(vault_options));

    holder_signer_ = Signer(1);
    peer_signer_ = Signer(2);
    rocks_store_ = std::make_unique<audit::RocksDbAuditStore>(db_.get());
    faulty_store_ =
        std::make_unique<audit::FaultInjectingAuditStore>(rocks_store_.get());
    audit::AuditLog::Options log_options;
    log_options.origin = "safe-harbor.haven/log";
    log_options.signer = holder_signer_.get();
    log_options.store = faulty_store_.get();
    log_ = *audit::AuditLog::Open(std::move(log_options));
    pseudonym_key_ = crypto::SecretBytes::Random(32);
    recorder_ = std::make_unique<audit::AuditRecorder>(
        "safe-harbor", log_.get(), &pseudonym_key_);

    consent::ConsentRegistry::Options consent_options;
    consent_options.store = &consent_store_;
    consent_options.clock = &clock_;
    consent_options.signer = holder_signer_.get();
    consent_options.issuer = "safe-harbor";
    consents_ = *consent::ConsentRegistry::Create(std::move(consent_options));

    auto loaded = policy::LoadPolicyFile(
        haven::testing::SourceDir() + "/policy/examples/safe-harbor.textproto");
    ASSERT_THAT(loaded, IsOk());
    policy_.Replace(*policy::CompiledPolicy::Compile(loaded->policy));

    handles_ = std::make_unique<HandleStore>(db_.get());
    holder_ = std::make_unique<Holder>(Holder::Deps{
        "safe-harbor", &clock_, holder_signer_.get(), &replay_, handles_.get(),
        &policy_, consents_.get(), vault_.get(), recorder_.get()});

    ASSERT_NO_FATAL_FAILURE(
        AddConsentedSurvivor("555-0100", &subject_, &handle_));

    peer_.set_agency_id("legal-aid");
    peer_.set_sector(haven::v1::LEGAL_SERVICES);
    peer_.set_status(haven::v1::MEMBER_ACTIVE);
    peer_.set_verifier_key(*client::FormatVerifierKey(
        "legal-aid.haven/log", std::string(peer_signer_->public_key().begin(),
                                           peer_signer_->public_key().end())));
  }

  haven::v1::SignedDisclosureRequest Request(const std::string& id) {
    haven::v1::DisclosureRequest request;
    request.set_request_id(id);
    request.set_sent_unix(kNow);
    request.set_requester_agency_id("legal-aid");
    request.set_handle(handle_);
    request.set_purpose(haven::v1::LEGAL_REPRESENTATION);
    request.add_categories(haven::v1::CONTACT);
    request.set_requester_principal("caseworker");
    haven::v1::SignedDisclosureRequest signed_request;
    signed_request.set_request(Deterministic(request));
    signed_request.set_signature(
        Sign(*peer_signer_, kRequestContext, signed_request.request()));
    return signed_request;
  }

  // A survivor whose record holds one CONTACT field (`phone`), consented to
  // legal-aid for legal representation, and the handle issued to legal-aid.
  void AddConsentedSurvivor(const std::string& phone, std::string* subject,
                            std::string* handle) {
    *subject = *vault_->CreateSubject();
    google::protobuf::RepeatedPtrField<haven::v1::Field> fields;
    auto* field = fields.Add();
    field->set_name("phone");
    field->set_category(haven::v1::CONTACT);
    field->set_value(phone);
    ASSERT_THAT(vault_->Put(*subject, "", fields), IsOk());
    haven::v1::Consent terms;
    terms.set_subject_id(*subject);
    terms.mutable_grantee()->set_agency_id("legal-aid");
    terms.add_purposes(haven::v1::LEGAL_REPRESENTATION);
    terms.add_categories(haven::v1::CONTACT);
    terms.mutable_valid()->set_from_unix(kNow - 60);
    terms.mutable_valid()->set_until_unix(kNow + 86400);
    ASSERT_THAT(consents_->Record(terms, "advocate"), IsOk());
    auto issued = handles_->IssueHandle("safe-harbor", *subject, "legal-aid",
                                        absl::FromUnixSeconds(kNow));
    ASSERT_THAT(issued, IsOk());
    *handle = issued->handle();
  }

  haven::testing::TempDir dir_;
  policy::FakeClock clock_{kNow};
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<vault::RecordVault> vault_;
  std::unique_ptr<crypto::Ed25519Signer> holder_signer_;
  std::unique_ptr<crypto::Ed25519Signer> peer_signer_;
  std::unique_ptr<audit::RocksDbAuditStore> rocks_store_;
  std::unique_ptr<audit::FaultInjectingAuditStore> faulty_store_;
  std::unique_ptr<audit::AuditLog> log_;
  crypto::SecretBytes pseudonym_key_;
  std::unique_ptr<audit::AuditRecorder> recorder_;
  consent::MemoryConsentStore consent_store_;
  std::unique_ptr<consent::ConsentRegistry> consents_;
  policy::PolicyHolder policy_;
  std::unique_ptr<HandleStore> handles_;
  ReplayGuard replay_{absl::Seconds(120)};
  std::unique_ptr<Holder> holder_;
  std::string subject_;
  std::string handle_;
  haven::v1::Member peer_;
};

TEST_F(HolderFailClosedTest, DisclosesWhenTheLogIsWritable) {
  auto answer = holder_->Disclose(peer_, Request("r1"));
  ASSERT_THAT(answer, IsOk());
  haven::v1::Disclosure disclosure;
  ASSERT_TRUE(disclosure.ParseFromString(answer->disclosure()));
  ASSERT_EQ(disclosure.fields_size(), 1);
  EXPECT_EQ(disclosure.fields(0).value(), "555-0100");
  EXPECT_EQ(log_->Size(), disclosure.audit_index() + 1);
}

TEST_F(HolderFailClosedTest, FailingLogStorageDisclosesNothing) {
  uint64_t size_before = log_->Size();
  faulty_store_->set_fail_writes(true);
  auto answer = holder_->Disclose(peer_, Request("r2"));
  EXPECT_THAT(answer, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(log_->Size(), size_before);
  // No use of the consent was counted for a disclosure that did not happen.
  auto history = consents_->List(subject_);
  ASSERT_EQ(history.consents_size(), 1);
  EXPECT_EQ(history.consents(0).use_count(), 0u);
}

TEST_F(HolderFailClosedTest, FailingSyncDisclosesNothing) {
  faulty_store_->set_fail_syncs(true);
  EXPECT_THAT(holder_->Disclose(peer_, Request("r3")),
              StatusIs(absl::StatusCode::kUnavailable));
  faulty_store_->set_fail_syncs(false);
  // The node recovers once the storage does.
  EXPECT_THAT(holder_->Disclose(peer_, Request("r4")), IsOk());
}

TEST_F(HolderFailClosedTest, RequestSignedByAnotherKeyIsRefusedOnRecord) {
  const uint64_t size_before = log_->Size();
  auto request = Request("r5");
  request.set_signature(
      Sign(*holder_signer_, kRequestContext, request.request()));
  EXPECT_THAT(holder_->Disclose(peer_, request),
              StatusIs(absl::StatusCode::kUnauthenticated));
  // Logged as a refusal from the certified agency, with nothing taken from
  // the unverified body.
  ASSERT_EQ(log_->Size(), size_before + 1);
  auto entries = log_->GetEntries(size_before, 1);
  ASSERT_THAT(entries, IsOk());
  const haven::v1::AuditEntry& entry = (*entries)[0].entry();
  EXPECT_EQ(entry.kind(), haven::v1::REQUEST_REFUSED);
  EXPECT_EQ(entry.agency_id(), peer_.agency_id());
  EXPECT_THAT(entry.detail(), HasSubstr("UNAUTHENTICATED"));
  EXPECT_TRUE(entry.request_id().empty());
  EXPECT_TRUE(entry.justification().empty());

  // A body that does not parse is refused and logged the same way.
  request.set_request("\xff\xff not a request");
  EXPECT_THAT(holder_->Disclose(peer_, request),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(log_->Size(), size_before + 2);
}

TEST_F(HolderFailClosedTest, AccessReportListsOnlyThatSubjectsExchanges) {
  // A second survivor, also consented to legal-aid.
  std::string other;
  std::string other_handle;
  ASSERT_NO_FATAL_FAILURE(
      AddConsentedSurvivor("555-0199", &other, &other_handle));

  // Two disclosures and one refusal about the first subject, one
  // disclosure about the other.
  ASSERT_THAT(holder_->Disclose(peer_, Request("a1")), IsOk());
  ASSERT_THAT(holder_->Disclose(peer_, Request("a2")), IsOk());
  auto refused = Request("a3");
  {
    haven::v1::DisclosureRequest r;
    r.ParseFromString(refused.request());
    r.clear_categories();
    r.add_categories(haven::v1::MEDICAL);
    refused.set_request(Deterministic(r));
    refused.set_signature(
        Sign(*peer_signer_, kRequestContext, refused.request()));
  }
  ASSERT_THAT(holder_->Disclose(peer_, refused), IsOk());
  handle_ = other_handle;
  ASSERT_THAT(holder_->Disclose(peer_, Request("b1")), IsOk());

  services::ServiceContext context;
  context.audit = recorder_.get();
  services::AuditServiceImpl audit_service(context);
  haven::v1::SubjectAccessReportRequest request;
  request.set_subject_id(subject_);
  haven::v1::SubjectAccessReportResponse report;
  ASSERT_THAT(audit_service.DoSubjectAccessReport(
                  {"advocate", haven::v1::ADVOCATE}, request, &report),
              IsOk());
  std::vector<std::string> request_ids;
  for (const auto& e : report.entries()) {
    EXPECT_EQ(e.entry().subject_pseudonym(), recorder_->Pseudonym(subject_));
    EXPECT_EQ(e.entry().agency_id(), "legal-aid");
    request_ids.push_back(e.entry().request_id());
  }
  EXPECT_THAT(request_ids, ::testing::ElementsAre("a1", "a2", "a3"));
  EXPECT_EQ(report.entries(2).entry().kind(), haven::v1::REQUEST_REFUSED);
  ASSERT_EQ(report.entries(2).entry().withheld_size(), 1);
  EXPECT_EQ(report.entries(2).entry().withheld(0).category(),
            haven::v1::MEDICAL);
}

}  // namespace
}  // namespace haven::server::exchange

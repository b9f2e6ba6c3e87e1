#include "tests/testing/in_process_holder.h"

#include "client/verify/signed_note.h"
#include "haven/base/status_macros.h"
#include "policy/loader.h"
#include "server/exchange/requester.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

using server::crypto::Ed25519Signer;
using server::crypto::SecretBytes;

absl::StatusOr<std::unique_ptr<Ed25519Signer>> FixedSigner(uint8_t fill) {
  SecretBytes seed(Ed25519Signer::kSeedSize);
  for (size_t i = 0; i < seed.size(); ++i) seed.mutable_data()[i] = fill;
  return Ed25519Signer::FromSeed(seed);
}

absl::StatusOr<haven::v1::Member> MemberFor(const std::string& agency,
                                            haven::v1::Sector sector,
                                            const Ed25519Signer& signer) {
  haven::v1::Member member;
  member.set_agency_id(agency);
  member.set_sector(sector);
  member.set_status(haven::v1::MEMBER_ACTIVE);
  HAVEN_ASSIGN_OR_RETURN(
      *member.mutable_verifier_key(),
      client::FormatVerifierKey(
          server::exchange::CheckpointOrigin(agency),
          std::string(signer.public_key().begin(), signer.public_key().end())));
  return member;
}

}  // namespace

absl::StatusOr<std::unique_ptr<InProcessHolder>> InProcessHolder::Create() {
  std::unique_ptr<InProcessHolder> h(new InProcessHolder());
  if (h->dir_.path().empty()) {
    return absl::InternalError("cannot make a temporary directory");
  }
  server::storage::Database::Options db_options;
  db_options.path = h->dir_.Join("db");
  HAVEN_ASSIGN_OR_RETURN(
      h->db_, server::storage::Database::Open(std::move(db_options)));
  server::vault::RecordVault::Options vault_options;
  vault_options.db = h->db_.get();
  vault_options.master_key = SecretBytes::Random(32);
  HAVEN_ASSIGN_OR_RETURN(
      h->vault_, server::vault::RecordVault::Create(std::move(vault_options)));

  HAVEN_ASSIGN_OR_RETURN(h->holder_signer_, FixedSigner(1));
  HAVEN_ASSIGN_OR_RETURN(h->peer_signer_, FixedSigner(2));
  h->rocks_store_ =
      std::make_unique<server::audit::RocksDbAuditStore>(h->db_.get());
  h->faulty_store_ = std::make_unique<server::audit::FaultInjectingAuditStore>(
      h->rocks_store_.get());
  server::audit::AuditLog::Options log_options;
  log_options.origin = server::exchange::CheckpointOrigin("safe-harbor");
  log_options.signer = h->holder_signer_.get();
  log_options.store = h->faulty_store_.get();
  HAVEN_ASSIGN_OR_RETURN(h->log_,
                         server::audit::AuditLog::Open(std::move(log_options)));
  h->pseudonym_key_ = SecretBytes::Random(32);
  h->recorder_ = std::make_unique<server::audit::AuditRecorder>(
      "safe-harbor", h->log_.get(), &h->pseudonym_key_);

  server::consent::ConsentRegistry::Options consent_options;
  consent_options.store = &h->consent_store_;
  consent_options.clock = &h->clock_;
  consent_options.signer = h->holder_signer_.get();
  consent_options.issuer = "safe-harbor";
  HAVEN_ASSIGN_OR_RETURN(h->consents_, server::consent::ConsentRegistry::Create(
                                           std::move(consent_options)));

  HAVEN_ASSIGN_OR_RETURN(
      auto loaded, policy::LoadPolicyFile(
                       SourceDir() + "/policy/examples/safe-harbor.textproto"));
  HAVEN_ASSIGN_OR_RETURN(auto compiled,
                         policy::CompiledPolicy::Compile(loaded.policy));
  h->policy_.Replace(std::move(compiled));

  h->handles_ = std::make_unique<server::exchange::HandleStore>(h->db_.get());
  h->holder_ =
      std::make_unique<server::exchange::Holder>(server::exchange::Holder::Deps{
          "safe-harbor", &h->clock_, h->holder_signer_.get(), &h->replay_,
          h->handles_.get(), &h->policy_, h->consents_.get(), h->vault_.get(),
          h->recorder_.get()});
  HAVEN_ASSIGN_OR_RETURN(
      h->holder_member_,
      MemberFor("safe-harbor", haven::v1::VICTIM_SERVICES, *h->holder_signer_));
  HAVEN_ASSIGN_OR_RETURN(
      h->peer_member_,
      MemberFor("legal-aid", haven::v1::LEGAL_SERVICES, *h->peer_signer_));
  return h;
}

absl::Status InProcessHolder::AddConsentedSurvivor(const std::string& phone,
                                                   std::string* subject,
                                                   std::string* handle) {
  HAVEN_ASSIGN_OR_RETURN(*subject, vault_->CreateSubject());
  google::protobuf::RepeatedPtrField<haven::v1::Field> fields;
  auto* field = fields.Add();
  field->set_name("phone");
  field->set_category(haven::v1::CONTACT);
  field->set_value(phone);
  HAVEN_RETURN_IF_ERROR(vault_->Put(*subject, "", fields).status());
  haven::v1::Consent terms;
  terms.set_subject_id(*subject);
  terms.mutable_grantee()->set_agency_id("legal-aid");
  terms.add_purposes(haven::v1::LEGAL_REPRESENTATION);
  terms.add_categories(haven::v1::CONTACT);
  terms.mutable_valid()->set_from_unix(kNow - 60);
  terms.mutable_valid()->set_until_unix(kNow + 86400);
  HAVEN_RETURN_IF_ERROR(consents_->Record(terms, "advocate").status());
  HAVEN_ASSIGN_OR_RETURN(
      haven::v1::SubjectHandle issued,
      handles_->IssueHandle("safe-harbor", *subject, "legal-aid",
                            absl::FromUnixSeconds(kNow)));
  *handle = issued.handle();
  return absl::OkStatus();
}

}  // namespace haven::testing

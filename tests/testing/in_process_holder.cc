#include "tests/testing/in_process_holder.h"

#include "absl/strings/str_cat.h"
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
                                            const Ed25519Signer& signer,
                                            char fingerprint) {
  haven::v1::Member member;
  member.set_agency_id(agency);
  member.set_sector(sector);
  member.set_status(haven::v1::MEMBER_ACTIVE);
  member.set_endpoint("127.0.0.1:1");
  member.set_cert_sha256(std::string(64, fingerprint));
  HAVEN_ASSIGN_OR_RETURN(
      *member.mutable_verifier_key(),
      client::FormatVerifierKey(
          client::LogOrigin(agency),
          std::string(signer.public_key().begin(), signer.public_key().end())));
  return member;
}

}  // namespace

absl::StatusOr<std::unique_ptr<InProcessHolder>> InProcessHolder::Create() {
  std::unique_ptr<InProcessHolder> h(new InProcessHolder());
  HAVEN_ASSIGN_OR_RETURN(h->test_log_, TestLog::Create("safe-harbor"));
  TestLog& t = *h->test_log_;
  server::vault::RecordVault::Options vault_options;
  vault_options.storage = &t.storage();
  vault_options.master_key = SecretBytes::CopyFrom(t.master_key().span());
  HAVEN_ASSIGN_OR_RETURN(
      h->vault_, server::vault::RecordVault::Create(std::move(vault_options)));

  HAVEN_ASSIGN_OR_RETURN(h->peer_signer_, FixedSigner(2));
  HAVEN_ASSIGN_OR_RETURN(
      h->holder_member_,
      MemberFor("safe-harbor", haven::v1::VICTIM_SERVICES, t.signer(), 'a'));
  HAVEN_ASSIGN_OR_RETURN(
      h->peer_member_,
      MemberFor("legal-aid", haven::v1::LEGAL_SERVICES, *h->peer_signer_, 'b'));
  haven::v1::FederationManifest manifest;
  manifest.set_federation("test");
  manifest.set_serial(1);
  *manifest.add_members() = h->holder_member_;
  *manifest.add_members() = h->peer_member_;
  HAVEN_ASSIGN_OR_RETURN(auto parsed, server::federation::Manifest::Parse(
                                          manifest.DebugString(), "test"));
  h->federation_ = server::federation::FederationRegistry::ForManifest(parsed);

  h->handles_ = std::make_unique<server::exchange::HandleStore>(&t.storage(),
                                                                &t.sealer());
  h->outbox_ = std::make_unique<server::exchange::PeerOutbox>(
      &t.storage(), &t.sealer(), &t.log());
  h->fanout_ = std::make_unique<server::exchange::ConsentFanout>(
      server::exchange::ConsentFanout::Deps{
          "safe-harbor", &t.clock(), &t.signer(), h->federation_.get(),
          h->handles_.get(), h->outbox_.get(), &t.recorder(), nullptr});
  server::consent::ConsentRegistry::Options consent_options;
  consent_options.storage = &t.storage();
  consent_options.audit = &t.recorder();
  consent_options.sealer = &t.sealer();
  consent_options.clock = &t.clock();
  consent_options.signer = &t.signer();
  consent_options.observer = h->fanout_.get();
  consent_options.issuer = "safe-harbor";
  consent_options.check_subject = [v = h->vault_.get()](absl::string_view id) {
    return v->CheckSubject(id);
  };
  HAVEN_ASSIGN_OR_RETURN(h->consents_, server::consent::ConsentRegistry::Create(
                                           std::move(consent_options)));

  HAVEN_ASSIGN_OR_RETURN(
      auto loaded, policy::LoadPolicyFile(
                       SourceDir() + "/policy/examples/safe-harbor.textproto"));
  HAVEN_ASSIGN_OR_RETURN(auto compiled,
                         policy::CompiledPolicy::Compile(loaded.policy));
  h->policy_.Replace(std::move(compiled));

  h->holder_ =
      std::make_unique<server::exchange::Holder>(server::exchange::Holder::Deps{
          "safe-harbor", &t.clock(), &t.signer(), &h->replay_,
          h->handles_.get(), &h->policy_, h->consents_.get(), h->vault_.get(),
          &t.recorder()});
  return h;
}

absl::Status InProcessHolder::AddConsentedSurvivor(const std::string& phone,
                                                   std::string* subject,
                                                   std::string* handle) {
  const server::audit::AuditRecorder& recorder = test_log_->recorder();
  auto commit = [&](server::storage::WriteBatch state,
                    haven::v1::EntryKind kind, const std::string& id) {
    haven::v1::AuditEntry entry;
    entry.set_kind(kind);
    server::audit::Action action;
    action.entries.push_back(recorder.Stamped(entry, "caseworker", id));
    action.state = std::move(state);
    return recorder.Commit(std::move(action)).status();
  };
  HAVEN_ASSIGN_OR_RETURN(
      *subject, vault_->CreateSubject([&](server::storage::WriteBatch state,
                                          const std::string& id) {
        return commit(std::move(state), haven::v1::RECORD_WRITTEN, id);
      }));
  google::protobuf::RepeatedPtrField<haven::v1::Field> fields;
  auto* field = fields.Add();
  field->set_name("phone");
  field->set_category(haven::v1::CONTACT);
  field->set_value(phone);
  HAVEN_RETURN_IF_ERROR(
      vault_
          ->Put(*subject, "", fields,
                [&](server::storage::WriteBatch state,
                    const server::vault::RecordVault::PutResult&) {
                  return commit(std::move(state), haven::v1::RECORD_WRITTEN,
                                *subject);
                })
          .status());
  haven::v1::Consent terms;
  terms.set_subject_id(*subject);
  terms.mutable_grantee()->set_agency_id("legal-aid");
  terms.add_purposes(haven::v1::LEGAL_REPRESENTATION);
  terms.add_categories(haven::v1::CONTACT);
  terms.mutable_valid()->set_from_unix(kNow - 60);
  terms.mutable_valid()->set_until_unix(kNow + 86400);
  HAVEN_RETURN_IF_ERROR(consents_->Record(terms, "advocate").status());
  HAVEN_ASSIGN_OR_RETURN(std::optional<haven::v1::IssuedHandle> issued,
                         handles_->Find(*subject, "legal-aid"));
  if (!issued.has_value()) {
    return absl::InternalError("recording the consent issued no handle");
  }
  *handle = issued->handle().handle();
  return absl::OkStatus();
}

}  // namespace haven::testing

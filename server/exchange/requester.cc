#include "server/exchange/requester.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/verify/merkle.h"
#include "client/verify/signed_note.h"
#include "haven/base/await.h"
#include "haven/base/status_macros.h"
#include "server/crypto/key_derivation.h"
#include "server/exchange/signing.h"

namespace haven::server::exchange {
std::string CheckpointOrigin(const std::string& agency_id) {
  return absl::StrCat(agency_id, ".haven/log");
}

absl::StatusOr<haven::v1::Disclosure> Requester::Verify(
    const haven::v1::Member& holder, const haven::v1::DisclosureRequest& sent,
    const haven::v1::SignedDisclosure& answer) const {
  HAVEN_RETURN_IF_ERROR(VerifySigned(holder.verifier_key(), kDisclosureContext,
                                     answer.disclosure(), answer.signature(),
                                     holder.agency_id()));
  haven::v1::Disclosure disclosure;
  if (!disclosure.ParseFromString(answer.disclosure())) {
    return absl::DataLossError("holder's disclosure does not parse");
  }
  if (disclosure.request_id() != sent.request_id() ||
      disclosure.holder_agency_id() != holder.agency_id() ||
      disclosure.requester_agency_id() != deps_.agency_id) {
    return absl::DataLossError("holder's answer is not for this request");
  }
  // The holder's entry must be in its signed log and must record this
  // request: otherwise the holder could disclose off the record.
  auto checkpoint =
      VerifyHolderCheckpoint(holder, disclosure.checkpoint().note());
  if (!checkpoint.ok()) {
    return absl::DataLossError(
        absl::StrCat("holder's checkpoint does not verify: ",
                     checkpoint.status().message()));
  }
  const haven::v1::InclusionProof& proof = disclosure.inclusion_proof();
  std::string leaf_hash = client::HashLeaf(disclosure.audit_leaf());
  std::vector<std::string> hashes(proof.hashes().begin(), proof.hashes().end());
  if (proof.leaf_index() != disclosure.audit_index() ||
      proof.tree_size() != checkpoint->tree_size) {
    return absl::DataLossError("holder's inclusion proof is for another entry");
  }
  if (absl::Status included =
          client::VerifyInclusion(proof.leaf_index(), proof.tree_size(),
                                  leaf_hash, hashes, checkpoint->root_hash);
      !included.ok()) {
    return absl::DataLossError(absl::StrCat(
        "holder's audit entry is not in its log: ", included.message()));
  }
  haven::v1::AuditEntry entry;
  if (!entry.ParseFromString(disclosure.audit_leaf()) ||
      entry.request_id() != sent.request_id()) {
    return absl::DataLossError(
        "holder's audit entry does not record this request");
  }
  return disclosure;
}

absl::StatusOr<client::CheckpointBody> Requester::VerifyHolderCheckpoint(
    const haven::v1::Member& holder, const std::string& note) const {
  {
    absl::MutexLock lock(&checkpoints_mu_);
    auto it = checkpoints_.find(holder.agency_id());
    if (it != checkpoints_.end() &&
        it->second.verifier_key == holder.verifier_key() &&
        it->second.note == note) {
      return it->second.body;
    }
  }
  HAVEN_ASSIGN_OR_RETURN(client::NoteVerifierKey key,
                         client::ParseVerifierKey(holder.verifier_key()));
  HAVEN_ASSIGN_OR_RETURN(client::CheckpointBody body,
                         client::VerifyCheckpoint(
                             note, key, CheckpointOrigin(holder.agency_id())));
  absl::MutexLock lock(&checkpoints_mu_);
  checkpoints_[holder.agency_id()] = {holder.verifier_key(), note, body};
  return body;
}

struct Requester::Exchange {
  std::string principal;
  haven::v1::Member holder;
  haven::v1::DisclosureRequest sent;
  haven::v1::AuditEntry receipt;
  // The requester never learns the subject id: its pseudonym is of the
  // holder's handle.
  std::string subject_key;
  RequestDone done;
};

absl::StatusOr<haven::v1::RequestDisclosureResponse> Requester::Request(
    const std::string& principal,
    const haven::v1::RequestDisclosureRequest& request) {
  return Await<absl::StatusOr<haven::v1::RequestDisclosureResponse>>(
      [&](RequestDone done) {
        RequestAsync(principal, request, std::move(done));
      });
}

void Requester::RequestAsync(const std::string& principal,
                             const haven::v1::RequestDisclosureRequest& request,
                             RequestDone done) {
  if (request.holder_agency_id().empty() || request.handle().empty()) {
    return done(
        absl::InvalidArgumentError("holder_agency_id and handle are required"));
  }
  if (request.purpose() == haven::v1::PURPOSE_UNSPECIFIED) {
    return done(absl::InvalidArgumentError("purpose is required"));
  }
  if (request.categories().empty()) {
    return done(absl::InvalidArgumentError("ask for at least one category"));
  }
  auto manifest = deps_.federation->current();
  const haven::v1::Member* found = manifest->Find(request.holder_agency_id());
  if (found == nullptr) {
    return done(absl::NotFoundError(absl::StrCat(
        "agency '", request.holder_agency_id(), "' is not in the federation")));
  }
  if (found->status() != haven::v1::MEMBER_ACTIVE) {
    return done(absl::FailedPreconditionError(
        absl::StrCat("agency '", found->agency_id(), "' is suspended")));
  }

  auto exchange = std::make_unique<Exchange>();
  exchange->principal = principal;
  exchange->holder = *found;
  exchange->done = std::move(done);
  haven::v1::DisclosureRequest& sent = exchange->sent;
  sent.set_request_id(crypto::RandomHexId(16));
  sent.set_sent_unix(deps_.clock->NowUnix());
  sent.set_requester_agency_id(deps_.agency_id);
  sent.set_handle(request.handle());
  sent.set_purpose(request.purpose());
  for (int c : request.categories()) {
    sent.add_categories(static_cast<haven::v1::Category>(c));
  }
  sent.set_justification(request.justification());
  sent.set_requester_principal(principal);
  haven::v1::SignedDisclosureRequest signed_request;
  signed_request.set_request(Deterministic(sent));
  signed_request.set_signature(
      Sign(*deps_.signer, kRequestContext, signed_request.request()));

  haven::v1::AuditEntry& receipt = exchange->receipt;
  receipt.set_agency_id(found->agency_id());
  receipt.set_purpose(request.purpose());
  receipt.set_request_id(sent.request_id());
  receipt.set_justification(request.justification());
  for (int c : request.categories()) {
    receipt.add_asked(static_cast<haven::v1::Category>(c));
  }
  exchange->subject_key = absl::StrCat(found->agency_id(), "/", request.handle());

  const haven::v1::Member& holder = exchange->holder;
  deps_.peers->DiscloseAsync(
      holder, std::move(signed_request),
      [this, exchange = std::move(exchange)](
          absl::StatusOr<haven::v1::SignedDisclosure> answer) mutable {
        OnAnswer(std::move(exchange), std::move(answer));
      });
}

void Requester::OnAnswer(
    std::unique_ptr<Exchange> exchange,
    absl::StatusOr<haven::v1::SignedDisclosure> answer) const {
  absl::StatusOr<haven::v1::Disclosure> disclosure =
      answer.ok() ? Verify(exchange->holder, exchange->sent, *answer)
                  : absl::StatusOr<haven::v1::Disclosure>(answer.status());
  haven::v1::AuditEntry& receipt = exchange->receipt;
  // Copied out, as `exchange` moves into the commit callback.
  const std::string principal = exchange->principal;
  const std::string subject_key = exchange->subject_key;
  if (!disclosure.ok()) {
    receipt.set_kind(haven::v1::REQUEST_REFUSED);
    receipt.set_detail(
        absl::StrCat(absl::StatusCodeToString(disclosure.status().code()), ": ",
                     disclosure.status().message()));
    deps_.audit->RecordAsync(
        receipt, principal, subject_key,
        [exchange = std::move(exchange),
         refused = disclosure.status()](absl::StatusOr<uint64_t> logged) {
          exchange->done(logged.ok() ? refused : logged.status());
        });
    return;
  }

  receipt.set_kind(haven::v1::DISCLOSURE_RECEIVED);
  receipt.set_policy_version(disclosure->decision().policy_version());
  for (const auto& c : disclosure->decision().categories()) {
    if (c.allowed()) {
      receipt.add_given(c.category());
      if (!c.consent_id().empty()) receipt.add_consent_ids(c.consent_id());
    } else {
      auto* withheld = receipt.add_withheld();
      withheld->set_category(c.category());
      withheld->set_reason(c.reason());
      withheld->set_rule(c.rule());
    }
    receipt.set_break_glass(receipt.break_glass() || c.break_glass());
  }
  receipt.set_detail(
      absl::StrCat("holder audit index ", disclosure->audit_index()));

  haven::v1::RequestDisclosureResponse response;
  *response.mutable_fields() = std::move(*disclosure->mutable_fields());
  *response.mutable_decision() = std::move(*disclosure->mutable_decision());
  response.set_data_life_seconds(disclosure->data_life_seconds());
  response.set_holder_audit_index(disclosure->audit_index());
  *response.mutable_signed_() = *std::move(answer);
  // The fields are returned only once the receipt is durable.
  deps_.audit->RecordAsync(
      receipt, principal, subject_key,
      [exchange = std::move(exchange), response = std::move(response)](
          absl::StatusOr<uint64_t> receipt_index) mutable {
        if (!receipt_index.ok()) return exchange->done(receipt_index.status());
        response.set_receipt_audit_index(*receipt_index);
        exchange->done(std::move(response));
      });
}

}  // namespace haven::server::exchange

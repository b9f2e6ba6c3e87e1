#include "server/exchange/requester.h"

#include <algorithm>
#include <iterator>
#include <set>

#include "absl/strings/str_cat.h"
#include "client/verify/merkle.h"
#include "client/verify/signed_batch.h"
#include "client/verify/signed_note.h"
#include "haven/base/await.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "server/crypto/key_derivation.h"
#include "server/exchange/signing.h"

namespace haven::server::exchange {

struct Requester::Exchange {
  std::string principal;
  haven::v1::DisclosureRequest sent;
  // The receipt's entry so far: what was asked of whom.
  haven::v1::AuditEntry receipt;
  // The requester never learns the subject id: its pseudonym is of the
  // holder's handle.
  std::string subject_key;
  RequestDone done;
};

Requester::Requester(Deps deps) : deps_(std::move(deps)) {}
Requester::~Requester() = default;

absl::StatusOr<haven::v1::RequestDisclosureResponse> Requester::Request(
    const std::string& principal,
    const haven::v1::RequestDisclosureRequest& request) {
  return Await<absl::StatusOr<haven::v1::RequestDisclosureResponse>>(
      [&](RequestDone done) {
        RequestAsync(principal, request, std::move(done));
      });
}

namespace {

// The manifest's entry for `agency_id` if the exchange may go to it now.
absl::StatusOr<haven::v1::Member> ActiveHolder(
    const federation::FederationRegistry& federation,
    const std::string& agency_id) {
  auto manifest = federation.current();
  const haven::v1::Member* found = manifest->Find(agency_id);
  if (found == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("agency '", agency_id, "' is not in the federation"));
  }
  if (found->status() != haven::v1::MEMBER_ACTIVE) {
    return absl::FailedPreconditionError(
        absl::StrCat("agency '", agency_id, "' is suspended"));
  }
  return *found;
}

// A holder's refusal of one request, as this node reports it.
absl::Status FromRefusal(const haven::v1::RequestRefusal& refusal,
                         const std::string& holder_id) {
  int code = refusal.code();
  if (code <= 0 ||
      code > static_cast<int>(absl::StatusCode::kUnauthenticated)) {
    code = static_cast<int>(absl::StatusCode::kUnknown);
  }
  return absl::Status(
      static_cast<absl::StatusCode>(code),
      absl::StrCat("peer '", holder_id, "': ", refusal.message()));
}

// The member's keys as one cache key: a manifest changing either one
// invalidates a checkpoint verified under the old pair.
std::string KeysOf(const haven::v1::Member& member) {
  return absl::StrCat(member.verifier_key(), " ", member.next_verifier_key());
}

}  // namespace

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
  // The receipt entry logs the justification and keys the subject by the
  // handle whatever the holder answers, so both are bounded here, before
  // anything is sent or logged; the holder checks them again.
  if (request.holder_agency_id().size() > limits::kMaxAgencyIdBytes) {
    return done(absl::InvalidArgumentError(absl::StrCat(
        "holder_agency_id is at most ", limits::kMaxAgencyIdBytes, " bytes")));
  }
  if (absl::Status handle =
          CheckNodeId(request.handle(), "handle", /*required=*/true);
      !handle.ok()) {
    return done(std::move(handle));
  }
  if (request.categories_size() > limits::kMaxCategoriesPerRequest) {
    return done(absl::InvalidArgumentError(absl::StrCat(
        "ask for at most ", limits::kMaxCategoriesPerRequest, " categories")));
  }
  if (absl::Status justification =
          CheckPlainText(request.justification(), "justification",
                         limits::kMaxJustificationBytes, /*required=*/false);
      !justification.ok()) {
    return done(std::move(justification));
  }
  absl::StatusOr<haven::v1::Member> holder =
      ActiveHolder(*deps_.federation, request.holder_agency_id());
  if (!holder.ok()) return done(holder.status());

  auto exchange = std::make_unique<Exchange>();
  exchange->principal = principal;
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

  haven::v1::AuditEntry& receipt = exchange->receipt;
  receipt.set_agency_id(holder->agency_id());
  receipt.set_purpose(request.purpose());
  receipt.set_request_id(sent.request_id());
  receipt.set_justification(request.justification());
  for (int c : request.categories()) {
    receipt.add_asked(static_cast<haven::v1::Category>(c));
  }
  exchange->subject_key =
      absl::StrCat(holder->agency_id(), "/", request.handle());
  {
    absl::MutexLock lock(&mu_);
    HolderQueue& queue = queues_[holder->agency_id()];
    if (queue.waiting.size() >=
        static_cast<size_t>(std::max(0, deps_.max_waiting))) {
      return exchange->done(absl::UnavailableError(
          absl::StrCat("too many requests are waiting for agency '",
                       holder->agency_id(), "'; try again shortly")));
    }
    queue.waiting.push_back(std::move(exchange));
  }
  SendWaiting(holder->agency_id());
}

void Requester::SendWaiting(const std::string& holder_id) {
  while (true) {
    Exchanges batch;
    {
      absl::MutexLock lock(&mu_);
      HolderQueue& queue = queues_[holder_id];
      if (queue.waiting.empty() ||
          queue.in_flight >= std::max(1, deps_.max_batches_in_flight)) {
        return;
      }
      const ptrdiff_t count =
          std::min(static_cast<ptrdiff_t>(queue.waiting.size()),
                   static_cast<ptrdiff_t>(client::kMaxRequestBatch));
      const auto taken = queue.waiting.begin() + count;
      std::move(queue.waiting.begin(), taken, std::back_inserter(batch));
      queue.waiting.erase(queue.waiting.begin(), taken);
      ++queue.in_flight;
    }
    // A holder suspended while these waited is not asked.
    absl::StatusOr<haven::v1::Member> holder =
        ActiveHolder(*deps_.federation, holder_id);
    if (!holder.ok()) {
      {
        absl::MutexLock lock(&mu_);
        --queues_[holder_id].in_flight;
      }
      for (auto& exchange : batch) exchange->done(holder.status());
      continue;
    }
    haven::v1::DiscloseRequest request;
    for (const auto& exchange : batch) {
      request.add_requests(Deterministic(exchange->sent));
    }
    request.set_signature(SignBatch(*deps_.signer, client::kRequestBatchContext,
                                    request.requests()));
    const haven::v1::Member& member = *holder;
    deps_.peers->DiscloseAsync(
        member, std::move(request),
        [this, member, batch = std::move(batch)](
            absl::StatusOr<haven::v1::DiscloseResponse> answers) mutable {
          OnBatchAnswered(member, std::move(batch), std::move(answers));
        });
    return;
  }
}

void Requester::OnBatchAnswered(
    const haven::v1::Member& holder, Exchanges batch,
    absl::StatusOr<haven::v1::DiscloseResponse> answers) {
  {
    absl::MutexLock lock(&mu_);
    --queues_[holder.agency_id()].in_flight;
  }
  // The next batch leaves before this one is checked.
  SendWaiting(holder.agency_id());

  absl::Status batch_status = answers.status();
  std::vector<std::string> digests;
  if (batch_status.ok() &&
      answers->answers_size() != static_cast<int>(batch.size())) {
    batch_status = absl::DataLossError(
        absl::StrCat("holder answered ", answers->answers_size(), " of ",
                     batch.size(), " requests"));
  }
  if (batch_status.ok()) {
    digests = client::BatchDigests(answers->answers());
    if (absl::Status signed_ok =
            VerifyByMember(holder,
                           [&](const std::string& key) {
                             return client::VerifyBatchSignature(
                                 key, client::kAnswerBatchContext, digests,
                                 answers->signature(), holder.agency_id());
                           });
        !signed_ok.ok()) {
      batch_status = absl::DataLossError(absl::StrCat(
          "holder's answers are not signed by it: ", signed_ok.message()));
    }
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    absl::StatusOr<haven::v1::RequestDisclosureResponse> outcome =
        batch_status.ok()
            ? CheckAnswer(holder, *batch[i], *answers, digests,
                          static_cast<int>(i))
            : absl::StatusOr<haven::v1::RequestDisclosureResponse>(
                  batch_status);
    Complete(std::move(batch[i]), std::move(outcome));
  }
}

absl::StatusOr<haven::v1::RequestDisclosureResponse> Requester::CheckAnswer(
    const haven::v1::Member& holder, const Exchange& exchange,
    const haven::v1::DiscloseResponse& answers,
    const std::vector<std::string>& digests, int index) const {
  haven::v1::DisclosureAnswer answer;
  if (!answer.ParseFromString(answers.answers(index))) {
    return absl::DataLossError("holder's answer does not parse");
  }
  if (answer.request_id() != exchange.sent.request_id()) {
    return absl::DataLossError("holder's answer is not for this request");
  }
  if (answer.has_refusal()) {
    return FromRefusal(answer.refusal(), holder.agency_id());
  }
  if (!answer.has_disclosure()) {
    return absl::DataLossError(
        "holder's answer holds neither a disclosure nor a refusal");
  }
  haven::v1::Disclosure& disclosure = *answer.mutable_disclosure();
  HAVEN_RETURN_IF_ERROR(VerifyDisclosure(holder, exchange.sent, disclosure));

  haven::v1::RequestDisclosureResponse response;
  *response.mutable_fields() = std::move(*disclosure.mutable_fields());
  *response.mutable_decision() = std::move(*disclosure.mutable_decision());
  response.set_data_life_seconds(disclosure.data_life_seconds());
  response.set_holder_audit_index(disclosure.audit_index());
  haven::v1::SignedDisclosure* evidence = response.mutable_signed_();
  evidence->set_answer(answers.answers(index));
  for (const std::string& digest : digests) evidence->add_batch_sha256(digest);
  evidence->set_batch_index(index);
  evidence->set_signature(answers.signature());
  return response;
}

absl::Status Requester::VerifyDisclosure(
    const haven::v1::Member& holder, const haven::v1::DisclosureRequest& sent,
    const haven::v1::Disclosure& disclosure) const {
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
  std::set<int> allowed;
  for (const auto& c : disclosure.decision().categories()) {
    if (c.allowed()) allowed.insert(c.category());
  }
  haven::v1::AuditEntry entry;
  if (!entry.ParseFromString(disclosure.audit_leaf()) ||
      entry.request_id() != sent.request_id() ||
      entry.kind() != (allowed.empty() ? haven::v1::REQUEST_REFUSED
                                       : haven::v1::DISCLOSURE) ||
      entry.agency_id() != deps_.agency_id) {
    return absl::DataLossError(
        "holder's audit entry does not record this request");
  }
  // What the entry says was given is exactly what the decision allowed,
  // and every field received is of a category given: otherwise the holder
  // disclosed more than its log shows.
  std::set<int> given(entry.given().begin(), entry.given().end());
  if (given != allowed ||
      static_cast<int>(given.size()) != entry.given_size()) {
    return absl::DataLossError(
        "holder's audit entry records other categories than its decision");
  }
  for (const haven::v1::Field& field : disclosure.fields()) {
    if (given.count(field.category()) == 0) {
      return absl::DataLossError(
          "holder's answer holds a field of a category its audit entry does "
          "not record as given");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<client::CheckpointBody> Requester::VerifyHolderCheckpoint(
    const haven::v1::Member& holder, const std::string& note) const {
  {
    absl::MutexLock lock(&checkpoints_mu_);
    auto it = checkpoints_.find(holder.agency_id());
    if (it != checkpoints_.end() && it->second.verifier_key == KeysOf(holder) &&
        it->second.note == note) {
      return it->second.body;
    }
  }
  // By either of the holder's keys: its checkpoints before a signing-key
  // rotation are the old key's, after it the next key's.
  HAVEN_ASSIGN_OR_RETURN(
      client::CheckpointBody body,
      VerifyByMember(holder,
                     [&](const std::string& vkey)
                         -> absl::StatusOr<client::CheckpointBody> {
                       HAVEN_ASSIGN_OR_RETURN(client::NoteVerifierKey key,
                                              client::ParseVerifierKey(vkey));
                       return client::VerifyCheckpoint(
                           note, key, client::LogOrigin(holder.agency_id()));
                     }));
  absl::MutexLock lock(&checkpoints_mu_);
  checkpoints_[holder.agency_id()] = {KeysOf(holder), note, body};
  return body;
}

void Requester::Complete(
    std::unique_ptr<Exchange> exchange,
    absl::StatusOr<haven::v1::RequestDisclosureResponse> outcome) const {
  haven::v1::AuditEntry receipt = std::move(exchange->receipt);
  // Copied out, as `exchange` moves into the commit callback.
  const std::string principal = exchange->principal;
  const std::string subject_key = exchange->subject_key;
  if (!outcome.ok()) {
    receipt.set_kind(haven::v1::REQUEST_REFUSED);
    receipt.set_detail(
        absl::StrCat(absl::StatusCodeToString(outcome.status().code()), ": ",
                     outcome.status().message()));
    deps_.audit->RecordAsync(
        std::move(receipt), principal, subject_key,
        [exchange = std::move(exchange),
         refused = outcome.status()](const absl::StatusOr<uint64_t>& logged) {
          exchange->done(logged.ok() ? refused : logged.status());
        });
    return;
  }

  receipt.set_kind(haven::v1::DISCLOSURE_RECEIVED);
  receipt.set_policy_version(outcome->decision().policy_version());
  for (const auto& c : outcome->decision().categories()) {
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
      absl::StrCat("holder audit index ", outcome->holder_audit_index()));
  // The fields are returned only once the receipt is durable.
  deps_.audit->RecordAsync(
      std::move(receipt), principal, subject_key,
      [exchange = std::move(exchange), response = *std::move(outcome)](
          absl::StatusOr<uint64_t> receipt_index) mutable {
        if (!receipt_index.ok()) return exchange->done(receipt_index.status());
        response.set_receipt_audit_index(*receipt_index);
        exchange->done(std::move(response));
      });
}

}  // namespace haven::server::exchange

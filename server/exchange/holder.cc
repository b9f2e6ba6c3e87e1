#include "server/exchange/holder.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "haven/base/await.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "policy/evaluator.h"
#include "server/exchange/signing.h"

namespace haven::server::exchange {
namespace {

using limits::kMaxAgencyIdBytes;
using limits::kMaxCategoriesPerRequest;
using limits::kMaxJustificationBytes;
using limits::kMaxPrincipalBytes;
using limits::kMaxRequestBytes;
using limits::kMaxRequestIdChars;
using limits::kNodeIdChars;
using limits::kPeerSignatureBytes;

// The bounds of exchange.proto's DisclosureRequest.
absl::Status CheckRequestBounds(const haven::v1::DisclosureRequest& r) {
  if (r.request_id().empty() || r.request_id().size() > kMaxRequestIdChars ||
      !IsPlainText(r.request_id()) || r.handle().size() > kNodeIdChars ||
      r.requester_agency_id().size() > kMaxAgencyIdBytes ||
      r.categories().empty() ||
      r.categories_size() > kMaxCategoriesPerRequest) {
    return absl::InvalidArgumentError("out of bounds");
  }
  HAVEN_RETURN_IF_ERROR(CheckPlainText(r.justification(), "justification",
                                       kMaxJustificationBytes, false));
  HAVEN_RETURN_IF_ERROR(CheckPlainText(r.requester_principal(),
                                       "requester_principal",
                                       kMaxPrincipalBytes, false));
  return absl::OkStatus();
}

}  // namespace

Holder::Holder(Deps deps) : deps_(std::move(deps)) {
  if (deps_.metrics != nullptr) {
    decisions_ = deps_.metrics->AddCounter(
        "haven_holder_decisions_total",
        "Disclosure requests from peers decided by this node as holder, once "
        "on record, by peer agency, outcome (disclosed, refused, failed) and "
        "a fixed reason code.",
        {"peer", "outcome", "reason"});
  }
}

void Holder::CountDecision(const haven::v1::Member& peer,
                           absl::string_view outcome,
                           absl::string_view reason) const {
  if (decisions_ != nullptr) {
    decisions_->Increment({peer.agency_id(), outcome, reason});
  }
}

Holder::Outcome Holder::Refusal(const haven::v1::Member& peer,
                                const haven::v1::DisclosureRequest& request,
                                const std::string& subject_id,
                                PeerRefusal why) {
  Outcome out;
  out.refused = PeerRefusalStatus(why);
  out.request = request;
  haven::v1::AuditEntry& entry = out.entry;
  entry.set_kind(haven::v1::REQUEST_REFUSED);
  entry.set_agency_id(peer.agency_id());
  entry.set_purpose(request.purpose());
  for (int c : request.categories()) {
    entry.add_asked(static_cast<haven::v1::Category>(c));
  }
  entry.set_request_id(request.request_id());
  entry.set_justification(request.justification());
  entry.set_detail(absl::StrCat(absl::StatusCodeToString(out.refused.code()),
                                ": ", out.refused.message()));
  out.principal =
      absl::StrCat(peer.agency_id(), "/", request.requester_principal());
  out.subject_id = subject_id;
  out.reason = PeerRefusalCode(why);
  return out;
}

void Holder::RefuseBatch(const haven::v1::Member& peer, PeerRefusal reason,
                         DiscloseDone done) {
  // The body is not the peer's signed word, so only what the certificate
  // proves goes on record: which agency sent it, and why it was refused.
  absl::Status why = PeerRefusalStatus(reason);
  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::REQUEST_REFUSED);
  entry.set_agency_id(peer.agency_id());
  entry.set_detail(
      absl::StrCat(absl::StatusCodeToString(why.code()), ": ", why.message()));
  deps_.audit->RecordAsync(
      std::move(entry), peer.agency_id(), "",
      [this, peer, reason, done = std::move(done),
       why = std::move(why)](const absl::StatusOr<uint64_t>& logged) mutable {
        if (logged.ok()) {
          CountDecision(peer, "refused", PeerRefusalCode(reason));
        } else {
          CountDecision(peer, "failed", "log_unavailable");
        }
        done(logged.ok() ? why : logged.status());
      });
}

absl::StatusOr<haven::v1::DiscloseResponse> Holder::Disclose(
    const haven::v1::Member& peer, const haven::v1::DiscloseRequest& batch) {
  return Await<absl::StatusOr<haven::v1::DiscloseResponse>>(
      [&](DiscloseDone done) { DiscloseAsync(peer, batch, std::move(done)); });
}

struct Holder::Batch {
  std::vector<Outcome> outcomes;
  // As logged, one per outcome.
  std::vector<haven::v1::AuditEntry> entries;
  DiscloseDone done;
};

void Holder::DiscloseAsync(const haven::v1::Member& peer,
                           const haven::v1::DiscloseRequest& request,
                           DiscloseDone done) {
  if (request.requests().empty() ||
      request.requests_size() > client::kMaxRequestBatch) {
    return RefuseBatch(peer, PeerRefusal::kMalformed, std::move(done));
  }
  for (const std::string& bytes : request.requests()) {
    if (bytes.size() > kMaxRequestBytes) {
      return RefuseBatch(peer, PeerRefusal::kMalformed, std::move(done));
    }
  }
  // An Ed25519 signature has one length; any other is malformed rather
  // than merely wrong, and is not hashed or compared.
  if (request.signature().size() != kPeerSignatureBytes) {
    return RefuseBatch(peer, PeerRefusal::kMalformed, std::move(done));
  }
  const std::vector<std::string> digests =
      client::BatchDigests(request.requests());
  if (absl::Status signed_ok =
          VerifyByMember(peer,
                         [&](const std::string& key) {
                           return client::VerifyBatchSignature(
                               key, client::kRequestBatchContext, digests,
                               request.signature(), peer.agency_id());
                         });
      !signed_ok.ok()) {
    return RefuseBatch(peer, PeerRefusal::kBadSignature, std::move(done));
  }
  auto batch = std::make_shared<Batch>();
  batch->done = std::move(done);
  batch->outcomes.reserve(request.requests_size());
  for (const std::string& bytes : request.requests()) {
    batch->outcomes.push_back(Decide(peer, bytes));
  }
  // Claim the disclosures' consent uses, then queue the batch's entries
  // with the counts, in one step the registry orders against consent
  // changes: an entry logged after a revocation never used that consent.
  std::vector<size_t> claimants;
  std::vector<consent::ConsentRegistry::UseClaim> claims;
  for (size_t i = 0; i < batch->outcomes.size(); ++i) {
    if (batch->outcomes[i].refused.ok()) {
      claimants.push_back(i);
      claims.push_back(batch->outcomes[i].claim);
    }
  }
  deps_.consents->ClaimUses(
      claims, deps_.clock->NowUnix(),
      [&](std::vector<absl::Status> results, storage::WriteBatch uses) {
        for (size_t k = 0; k < claimants.size(); ++k) {
          if (results[k].ok()) continue;
          Outcome& outcome = batch->outcomes[claimants[k]];
          outcome = Refusal(peer, outcome.request, outcome.subject_id,
                            PeerRefusal::kConsentChanged);
        }
        audit::Action action;
        action.state = std::move(uses);
        batch->entries.reserve(batch->outcomes.size());
        for (Outcome& outcome : batch->outcomes) {
          batch->entries.push_back(deps_.audit->Stamped(
              std::move(outcome.entry), outcome.principal, outcome.subject_id));
        }
        action.entries = batch->entries;
        // Nothing leaves until every entry of the batch is durable.
        deps_.audit->CommitAsync(
            std::move(action),
            [this, batch, peer](absl::StatusOr<uint64_t> first_index) {
              for (size_t i = 0; i < batch->outcomes.size(); ++i) {
                if (!first_index.ok()) {
                  CountDecision(peer, "failed", "log_unavailable");
                } else {
                  CountDecision(
                      peer,
                      batch->entries[i].kind() == haven::v1::DISCLOSURE
                          ? "disclosed"
                          : "refused",
                      batch->outcomes[i].reason);
                }
              }
              batch->done(first_index.ok()
                              ? Answer(*batch, *first_index)
                              : absl::StatusOr<haven::v1::DiscloseResponse>(
                                    first_index.status()));
            });
      });
}

Holder::Outcome Holder::Decide(const haven::v1::Member& peer,
                               const std::string& request_bytes) {
  haven::v1::DisclosureRequest request;
  if (!request.ParseFromString(request_bytes)) {
    return Refusal(peer, haven::v1::DisclosureRequest(), "",
                   PeerRefusal::kMalformed);
  }
  // Nothing the peer sent is logged unchecked: an out-of-bounds field
  // refuses the request, logged without the field.
  if (!CheckRequestBounds(request).ok()) {
    haven::v1::DisclosureRequest bounded;
    if (request.request_id().size() <= kMaxRequestIdChars) {
      bounded.set_request_id(request.request_id());
    }
    return Refusal(peer, bounded, "", PeerRefusal::kMalformed);
  }
  // The body cannot claim an identity: the certificate already decided it.
  if (request.requester_agency_id() != peer.agency_id()) {
    return Refusal(peer, request, "", PeerRefusal::kWrongAgency);
  }
  const int64_t now = deps_.clock->NowUnix();
  if (absl::Status fresh = deps_.replay->Check(
          request.request_id(), absl::FromUnixSeconds(request.sent_unix()),
          absl::FromUnixSeconds(now));
      !fresh.ok()) {
    return Refusal(peer, request, "",
                   fresh.code() == absl::StatusCode::kAlreadyExists
                       ? PeerRefusal::kReplay
                   : fresh.code() == absl::StatusCode::kFailedPrecondition
                       ? PeerRefusal::kStale
                       : PeerRefusal::kMalformed);
  }
  absl::StatusOr<std::string> subject =
      deps_.handles->Resolve(request.handle(), peer.agency_id());
  if (!subject.ok()) {
    return Refusal(peer, request, "",
                   subject.status().code() == absl::StatusCode::kNotFound
                       ? PeerRefusal::kUnknownHandle
                       : PeerRefusal::kHolderUnavailable);
  }

  std::shared_ptr<const policy::CompiledPolicy> policy = deps_.policy->Get();
  if (policy == nullptr) {
    return Refusal(peer, request, *subject, PeerRefusal::kNoPolicy);
  }
  std::shared_ptr<const policy::CompiledConsents> consents =
      deps_.consents->Snapshot(*subject);
  std::vector<int> categories(request.categories().begin(),
                              request.categories().end());
  policy::Request ask;
  ask.requester_agency = peer.agency_id();
  ask.requester_sector = peer.sector();
  ask.purpose = request.purpose();
  ask.categories = categories;
  ask.justification = request.justification();
  policy::Evaluator evaluator(deps_.clock);
  absl::StatusOr<haven::v1::Decision> decision =
      evaluator.Evaluate(*policy, *consents, ask);
  if (!decision.ok()) {
    return Refusal(peer, request, *subject, PeerRefusal::kMalformed);
  }

  Outcome out;
  out.request = request;
  out.principal =
      absl::StrCat(peer.agency_id(), "/", request.requester_principal());
  out.subject_id = *subject;
  std::set<int> allowed;
  std::set<std::string> consent_ids;
  bool break_glass = false;
  haven::v1::AuditEntry& entry = out.entry;
  entry.set_agency_id(peer.agency_id());
  entry.set_purpose(request.purpose());
  entry.set_request_id(request.request_id());
  entry.set_policy_version(decision->policy_version());
  entry.set_justification(request.justification());
  for (const auto& c : decision->categories()) {
    entry.add_asked(c.category());
    if (c.allowed()) {
      allowed.insert(c.category());
      entry.add_given(c.category());
      if (!c.consent_id().empty()) consent_ids.insert(c.consent_id());
      break_glass |= c.break_glass();
    } else {
      auto* withheld = entry.add_withheld();
      withheld->set_category(c.category());
      withheld->set_reason(c.reason());
      withheld->set_rule(c.rule());
    }
  }
  // The peer learns which consents a decision rested on only by its own
  // references to them: a consent id (one sector consent covers several
  // agencies) would let grantees link what they received.
  for (const auto& id : consent_ids) {
    entry.add_consent_ids(deps_.audit->ConsentRef(peer.agency_id(), id));
  }
  entry.set_break_glass(break_glass);
  entry.set_kind(allowed.empty() ? haven::v1::REQUEST_REFUSED
                                 : haven::v1::DISCLOSURE);
  out.reason = allowed.empty() ? "not_permitted"
               : break_glass   ? "break_glass"
                               : "permitted";
  if (break_glass) entry.set_detail("break-glass: flagged for review");

  // Read what may leave before logging, so a vault failure is logged as
  // the refusal it is, not as a disclosure.
  haven::v1::Disclosure& disclosure = out.disclosure;
  if (!allowed.empty()) {
    absl::StatusOr<std::vector<haven::v1::Record>> records =
        deps_.vault->List(*subject);
    if (!records.ok()) {
      return Refusal(peer, request, *subject,
                     records.status().code() == absl::StatusCode::kNotFound
                         ? PeerRefusal::kUnknownHandle
                         : PeerRefusal::kHolderUnavailable);
    }
    for (auto& record : *records) {
      for (auto& field : *record.mutable_fields()) {
        if (allowed.count(field.category())) {
          *disclosure.add_fields() = std::move(field);
        }
      }
    }
  }
  // Even a decision that gives nothing rests on this generation of the
  // subject's consents and refusals; one that gives something also takes a
  // use of each consent it rests on.
  out.claim.subject_id = *subject;
  out.claim.generation = consents->generation;
  out.claim.consent_ids.assign(consent_ids.begin(), consent_ids.end());
  int64_t data_life = 0;
  for (const auto& id : consent_ids) {
    auto history = deps_.consents->Get(id);
    if (history.ok() && !history->empty()) {
      int64_t life = history->back().data_life_seconds();
      data_life = data_life == 0 ? life : std::min(data_life, life);
    }
  }
  disclosure.set_request_id(request.request_id());
  disclosure.set_holder_agency_id(deps_.agency_id);
  disclosure.set_requester_agency_id(peer.agency_id());
  for (auto& c : *decision->mutable_categories()) {
    if (c.consent_id().empty()) continue;
    const std::string ref =
        deps_.audit->ConsentRef(peer.agency_id(), c.consent_id());
    c.set_explanation(
        absl::StrReplaceAll(c.explanation(), {{c.consent_id(), ref}}));
    c.set_consent_id(ref);
  }
  *disclosure.mutable_decision() = *std::move(decision);
  disclosure.set_data_life_seconds(data_life);
  return out;
}

absl::StatusOr<haven::v1::DiscloseResponse> Holder::Answer(
    Batch& batch, uint64_t first_index) const {
  // One checkpoint, covering the whole batch, proves every answer: the
  // requester checks its signature once.
  const haven::v1::Checkpoint checkpoint =
      deps_.audit->log()->LatestCheckpoint();
  haven::v1::DiscloseResponse response;
  for (size_t i = 0; i < batch.outcomes.size(); ++i) {
    Outcome& outcome = batch.outcomes[i];
    haven::v1::DisclosureAnswer answer;
    answer.set_request_id(batch.entries[i].request_id());
    if (!outcome.refused.ok()) {
      haven::v1::RequestRefusal* refusal = answer.mutable_refusal();
      refusal->set_code(static_cast<int>(outcome.refused.code()));
      refusal->set_message(std::string(outcome.refused.message()));
    } else {
      HAVEN_RETURN_IF_ERROR(
          Seal(checkpoint, first_index + i,
               audit::AuditLog::CanonicalLeaf(batch.entries[i]),
               &outcome.disclosure));
      *answer.mutable_disclosure() = std::move(outcome.disclosure);
    }
    response.add_answers(Deterministic(answer));
  }
  response.set_signature(SignBatch(*deps_.signer, client::kAnswerBatchContext,
                                   response.answers()));
  return response;
}

absl::Status Holder::Seal(const haven::v1::Checkpoint& checkpoint,
                          uint64_t index, std::string leaf,
                          haven::v1::Disclosure* disclosure) const {
  disclosure->set_audit_index(index);
  *disclosure->mutable_checkpoint() = checkpoint;
  HAVEN_ASSIGN_OR_RETURN(
      *disclosure->mutable_inclusion_proof(),
      deps_.audit->log()->InclusionProof(index, checkpoint.tree_size()));
  disclosure->set_audit_leaf(std::move(leaf));
  return absl::OkStatus();
}

}  // namespace haven::server::exchange

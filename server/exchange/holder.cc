#include "server/exchange/holder.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "haven/base/await.h"
#include "haven/base/status_macros.h"
#include "policy/evaluator.h"
#include "server/exchange/signing.h"

namespace haven::server::exchange {
namespace {

constexpr int kMaxCategories = 32;

}  // namespace

Holder::Outcome Holder::Refusal(const haven::v1::Member& peer,
                                const haven::v1::DisclosureRequest& request,
                                const std::string& subject_id,
                                absl::Status why) {
  Outcome out;
  haven::v1::AuditEntry& entry = out.entry;
  entry.set_kind(haven::v1::REQUEST_REFUSED);
  entry.set_agency_id(peer.agency_id());
  entry.set_purpose(request.purpose());
  for (int c : request.categories()) {
    entry.add_asked(static_cast<haven::v1::Category>(c));
  }
  entry.set_request_id(request.request_id());
  entry.set_justification(request.justification());
  entry.set_detail(
      absl::StrCat(absl::StatusCodeToString(why.code()), ": ", why.message()));
  out.principal =
      absl::StrCat(peer.agency_id(), "/", request.requester_principal());
  out.subject_id = subject_id;
  out.refused = std::move(why);
  return out;
}

void Holder::RefuseBatch(const haven::v1::Member& peer, absl::Status why,
                         DiscloseDone done) {
  // The body is not the peer's signed word, so only what the certificate
  // proves goes on record: which agency sent it, and why it was refused.
  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::REQUEST_REFUSED);
  entry.set_agency_id(peer.agency_id());
  entry.set_detail(
      absl::StrCat(absl::StatusCodeToString(why.code()), ": ", why.message()));
  deps_.audit->RecordAsync(std::move(entry), peer.agency_id(), "",
                           [done = std::move(done), why = std::move(why)](
                               const absl::StatusOr<uint64_t>& logged) mutable {
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
    return RefuseBatch(
        peer,
        absl::InvalidArgumentError(absl::StrCat(
            "a disclosure batch holds 1 to ", client::kMaxRequestBatch,
            " requests; got ", request.requests_size())),
        std::move(done));
  }
  if (absl::Status signed_ok = client::VerifyBatchSignature(
          peer.verifier_key(), client::kRequestBatchContext,
          client::BatchDigests(request.requests()), request.signature(),
          peer.agency_id());
      !signed_ok.ok()) {
    return RefuseBatch(peer, std::move(signed_ok), std::move(done));
  }
  auto batch = std::make_unique<Batch>();
  batch->done = std::move(done);
  batch->outcomes.reserve(request.requests_size());
  batch->entries.reserve(request.requests_size());
  for (const std::string& bytes : request.requests()) {
    Outcome& outcome = batch->outcomes.emplace_back(Decide(peer, bytes));
    batch->entries.push_back(deps_.audit->Stamped(
        std::move(outcome.entry), outcome.principal, outcome.subject_id));
  }
  // Nothing leaves until every entry of the batch is durable.
  const std::vector<haven::v1::AuditEntry>& entries = batch->entries;
  deps_.audit->log()->AppendBatchAsync(
      entries, [this, batch = std::move(batch)](
                   absl::StatusOr<uint64_t> first_index) mutable {
        absl::StatusOr<haven::v1::DiscloseResponse> answers =
            first_index.ok() ? Answer(*batch, *first_index)
                             : absl::StatusOr<haven::v1::DiscloseResponse>(
                                   first_index.status());
        if (!answers.ok()) {
          // Nothing was disclosed, so nothing was used.
          for (const Outcome& o : batch->outcomes) {
            (void)deps_.consents->ReturnUses(o.taken);
          }
        }
        batch->done(std::move(answers));
      });
}

Holder::Outcome Holder::Decide(const haven::v1::Member& peer,
                               const std::string& request_bytes) {
  haven::v1::DisclosureRequest request;
  if (!request.ParseFromString(request_bytes)) {
    return Refusal(
        peer, request, "",
        absl::InvalidArgumentError("disclosure request does not parse"));
  }
  // The body cannot claim an identity: the certificate already decided it.
  if (request.requester_agency_id() != peer.agency_id()) {
    return Refusal(
        peer, request, "",
        absl::PermissionDeniedError(absl::StrCat(
            "request names agency '", request.requester_agency_id(),
            "' but the caller's certificate is '", peer.agency_id(), "'")));
  }
  const int64_t now = deps_.clock->NowUnix();
  if (absl::Status fresh = deps_.replay->Check(
          request.request_id(), absl::FromUnixSeconds(request.sent_unix()),
          absl::FromUnixSeconds(now));
      !fresh.ok()) {
    return Refusal(peer, request, "", fresh);
  }
  if (request.categories().empty() ||
      request.categories_size() > kMaxCategories) {
    return Refusal(peer, request, "",
                   absl::InvalidArgumentError("ask for 1 to 32 categories"));
  }
  absl::StatusOr<std::string> subject =
      deps_.handles->Resolve(request.handle(), peer.agency_id());
  if (!subject.ok()) return Refusal(peer, request, "", subject.status());

  std::shared_ptr<const policy::CompiledPolicy> policy = deps_.policy->Get();
  if (policy == nullptr) {
    return Refusal(peer, request, *subject,
                   absl::FailedPreconditionError(
                       "the holder has no sharing policy loaded; nothing is "
                       "shared"));
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
    return Refusal(peer, request, *subject, decision.status());
  }

  Outcome out;
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
  for (const auto& id : consent_ids) entry.add_consent_ids(id);
  entry.set_break_glass(break_glass);
  entry.set_kind(allowed.empty() ? haven::v1::REQUEST_REFUSED
                                 : haven::v1::DISCLOSURE);
  if (break_glass) entry.set_detail("break-glass: flagged for review");

  // Read what may leave before logging, so a vault failure is logged as
  // the refusal it is, not as a disclosure.
  haven::v1::Disclosure& disclosure = out.disclosure;
  if (!allowed.empty()) {
    absl::StatusOr<std::vector<haven::v1::Record>> records =
        deps_.vault->List(*subject);
    if (!records.ok()) {
      return Refusal(peer, request, *subject, records.status());
    }
    for (auto& record : *records) {
      for (auto& field : *record.mutable_fields()) {
        if (allowed.count(field.category())) {
          *disclosure.add_fields() = std::move(field);
        }
      }
    }
  }
  // Take the uses before anything is logged as disclosed: a consent revoked
  // or used up while this request was being decided is refused here. The
  // counts are written unsynced; the audit append is a synced write to the
  // same database and makes them durable before anything leaves.
  const std::vector<std::string> used(consent_ids.begin(), consent_ids.end());
  absl::StatusOr<consent::ConsentRegistry::TakenUses> taken =
      deps_.consents->ConsumeUses(used, now);
  if (!taken.ok()) return Refusal(peer, request, *subject, taken.status());
  out.taken = *std::move(taken);
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

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

Holder::Outcome Holder::UnsignedRefusal(const haven::v1::Member& peer,
                                        absl::Status why) {
  // The body is not the peer's signed word, so only what the certificate
  // proves goes on record: which agency sent it, and why it was refused.
  Outcome out;
  out.entry.set_kind(haven::v1::REQUEST_REFUSED);
  out.entry.set_agency_id(peer.agency_id());
  out.entry.set_detail(
      absl::StrCat(absl::StatusCodeToString(why.code()), ": ", why.message()));
  out.principal = peer.agency_id();
  out.refused = std::move(why);
  return out;
}

absl::StatusOr<haven::v1::SignedDisclosure> Holder::Disclose(
    const haven::v1::Member& peer,
    const haven::v1::SignedDisclosureRequest& signed_request) {
  return Await<absl::StatusOr<haven::v1::SignedDisclosure>>(
      [&](DiscloseDone done) {
        DiscloseAsync(peer, signed_request, std::move(done));
      });
}

void Holder::DiscloseAsync(
    const haven::v1::Member& peer,
    const haven::v1::SignedDisclosureRequest& signed_request,
    DiscloseDone done) {
  Outcome outcome = Decide(peer, signed_request);
  if (!outcome.refused.ok()) {
    deps_.audit->RecordAsync(
        std::move(outcome.entry), outcome.principal, outcome.subject_id,
        [done = std::move(done), refused = std::move(outcome.refused)](
            absl::StatusOr<uint64_t> logged) mutable {
          done(logged.ok() ? refused : logged.status());
        });
    return;
  }
  // Nothing leaves until the entry is durable.
  deps_.audit->RecordAsync(
      std::move(outcome.entry), outcome.principal, outcome.subject_id,
      [this, done = std::move(done),
       disclosure = std::move(outcome.disclosure),
       taken = std::move(outcome.taken)](
          absl::StatusOr<uint64_t> index) mutable {
        if (!index.ok()) {
          // Nothing was disclosed, so nothing was used.
          (void)deps_.consents->ReturnUses(taken);
          return done(index.status());
        }
        done(Seal(std::move(disclosure), *index));
      });
}

Holder::Outcome Holder::Decide(
    const haven::v1::Member& peer,
    const haven::v1::SignedDisclosureRequest& signed_request) {
  haven::v1::DisclosureRequest request;
  absl::Status readable =
      request.ParseFromString(signed_request.request())
          ? VerifySigned(peer.verifier_key(), kRequestContext,
                         signed_request.request(), signed_request.signature(),
                         peer.agency_id())
          : absl::InvalidArgumentError("disclosure request does not parse");
  if (!readable.ok()) return UnsignedRefusal(peer, readable);
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

absl::StatusOr<haven::v1::SignedDisclosure> Holder::Seal(
    haven::v1::Disclosure disclosure, uint64_t index) const {
  disclosure.set_audit_index(index);
  const audit::AuditLog& log = *deps_.audit->log();
  *disclosure.mutable_checkpoint() = log.LatestCheckpoint();
  HAVEN_ASSIGN_OR_RETURN(
      *disclosure.mutable_inclusion_proof(),
      log.InclusionProof(index, disclosure.checkpoint().tree_size()));
  HAVEN_ASSIGN_OR_RETURN(auto leaf, log.GetEntries(index, 1));
  if (leaf.empty()) return absl::DataLossError("audit entry vanished");
  disclosure.set_audit_leaf(leaf[0].leaf());

  haven::v1::SignedDisclosure signed_disclosure;
  signed_disclosure.set_disclosure(Deterministic(disclosure));
  signed_disclosure.set_signature(
      Sign(*deps_.signer, kDisclosureContext, signed_disclosure.disclosure()));
  return signed_disclosure;
}

}  // namespace haven::server::exchange

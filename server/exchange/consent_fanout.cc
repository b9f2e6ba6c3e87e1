#include "server/exchange/consent_fanout.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "haven/base/status_macros.h"
#include "policy/consents.h"
#include "server/crypto/key_derivation.h"
#include "server/exchange/signing.h"

namespace haven::server::exchange {
namespace {

using consent::ConsentChange;

// Whether `consent` names `member`, by agency or by its sector.
bool Grants(const haven::v1::Consent& consent,
            const haven::v1::Member& member) {
  return consent.grantee().has_agency_id()
             ? consent.grantee().agency_id() == member.agency_id()
             : consent.grantee().sector() == member.sector();
}

// What the entry of a handle issued or withdrawn adds to say why.
const char* Why(ConsentChange::Kind kind) {
  switch (kind) {
    case ConsentChange::Kind::kMembershipChanged:
      return " (membership changed)";
    case ConsentChange::Kind::kRefusalRecorded:
      return " (survivor refused this agency)";
    case ConsentChange::Kind::kRefusalLifted:
      return " (refusal of this agency lifted)";
    default:
      return "";
  }
}

// What a grantee whose handle stays is told of a change to a consent that
// covered it (the notice's change), or nullptr if it is not told.
const char* ToldWhileKept(ConsentChange::Kind kind) {
  switch (kind) {
    case ConsentChange::Kind::kPaused:
      return "paused";
    case ConsentChange::Kind::kRevoked:
      return "revoked";
    default:
      return nullptr;
  }
}

// Whether `consent` lets `member` hold a handle at `now`.
bool KeepsHandle(const haven::v1::Consent& consent,
                 const haven::v1::Member& member, int64_t now) {
  const bool live = consent.status() == haven::v1::ACTIVE ||
                    consent.status() == haven::v1::PAUSED;
  return Grants(consent, member) && live && consent.valid().until_unix() > now;
}

}  // namespace

void ConsentFanout::Notify(const haven::v1::SubjectHandle& handle,
                           const std::string& consent_id,
                           const std::string& what, bool withdrawn,
                           audit::Action* action) const {
  const absl::Time now = absl::FromUnixNanos(deps_.clock->NowUnixNanos());
  haven::v1::NotifyRevocationRequest call;
  haven::v1::RevocationNotice* notice = call.mutable_notice();
  // Random, and the consent named by the grantee's own reference: what
  // one grantee is told shares nothing with what another is told.
  notice->set_notice_id(crypto::RandomHexId(16));
  notice->set_holder_agency_id(deps_.agency_id);
  notice->set_handle(handle.handle());
  if (!consent_id.empty()) {
    notice->set_consent_id(
        deps_.audit->ConsentRef(handle.grantee_agency_id(), consent_id));
  }
  notice->set_change(what);
  notice->set_effective_unix(absl::ToUnixSeconds(now));
  notice->set_handle_withdrawn(withdrawn);
  call.set_signature(
      Sign(*deps_.signer, kNoticeContext, Deterministic(*notice)));
  haven::v1::OutboxMessage message;
  message.set_to_agency_id(handle.grantee_agency_id());
  *message.mutable_revocation_notice() = std::move(call);
  deps_.outbox->Add(std::move(message), now, &action->state);
}

absl::Status ConsentFanout::OnConsentChange(const ConsentChange& change,
                                            audit::Action* action) {
  const bool refusal = change.kind == ConsentChange::Kind::kRefusalRecorded ||
                       change.kind == ConsentChange::Kind::kRefusalLifted;
  // A refusal of every agency keeps handles (only emergency rules pass it,
  // and those still need one); holders are told of it.
  const bool everyone = refusal && change.refusal.agency_id().empty();
  if (everyone && change.kind == ConsentChange::Kind::kRefusalLifted) {
    return absl::OkStatus();
  }
  HAVEN_ASSIGN_OR_RETURN(std::vector<haven::v1::IssuedHandle> handles,
                         deps_.handles->HandlesForSubject(change.subject_id));
  if (everyone) {
    for (const auto& issued : handles) {
      Notify(issued.handle(), "", "refused", false, action);
    }
    return absl::OkStatus();
  }
  const bool membership =
      change.kind == ConsentChange::Kind::kMembershipChanged;
  // A change that concerns agencies rather than one consent: no consent is
  // named to the grantee, and the entry names the consents that cover it.
  const bool by_agency = membership || refusal;
  const int64_t now = deps_.clock->NowUnix();
  auto manifest = deps_.federation->current();
  // Agencies the change may concern: for a membership change, those whose
  // membership changed; otherwise those holding a handle now, and those
  // the changed consent names.
  std::set<std::string> agencies;
  if (membership) {
    agencies.insert(change.agencies.begin(), change.agencies.end());
  } else if (refusal) {
    // A refusal of one agency concerns that agency only: the others are
    // not told (they could link their handle to its).
    agencies.insert(change.refusal.agency_id());
  } else {
    for (const auto& issued : handles) {
      agencies.insert(issued.handle().grantee_agency_id());
    }
    const haven::v1::Grantee& grantee = change.consent.grantee();
    if (grantee.has_agency_id()) {
      agencies.insert(grantee.agency_id());
    } else {
      for (const haven::v1::Member& member : manifest->proto().members()) {
        if (member.sector() == grantee.sector()) {
          agencies.insert(member.agency_id());
        }
      }
    }
  }
  agencies.erase(deps_.agency_id);

  for (const std::string& agency : agencies) {
    const haven::v1::Member* member = manifest->Find(agency);
    // Only an active member the survivor has not refused by name holds a
    // handle: a suspended one could not use it, and gets a new one when it
    // is reinstated (or the refusal lifted).
    std::vector<std::string> covering;
    const bool refused = std::find(change.refused_agencies.begin(),
                                   change.refused_agencies.end(),
                                   agency) != change.refused_agencies.end();
    if (member != nullptr && member->status() == haven::v1::MEMBER_ACTIVE &&
        !refused) {
      for (const auto& c : change.subject_consents) {
        if (KeepsHandle(c, *member, now)) covering.push_back(c.consent_id());
      }
    }
    const bool live = !covering.empty();
    HAVEN_ASSIGN_OR_RETURN(std::optional<haven::v1::IssuedHandle> existing,
                           deps_.handles->Find(change.subject_id, agency));
    haven::v1::AuditEntry entry;
    if (live && !existing.has_value()) {
      haven::v1::IssuedHandle issued =
          HandleStore::NewHandle(deps_.agency_id, change.subject_id, agency,
                                 absl::FromUnixSeconds(now));
      deps_.handles->Issue(issued, &action->state);
      haven::v1::OfferHandleRequest call;
      *call.mutable_handle() = issued.handle();
      call.set_signature(
          Sign(*deps_.signer, kHandleContext, Deterministic(issued.handle())));
      haven::v1::OutboxMessage message;
      message.set_to_agency_id(agency);
      *message.mutable_offer_handle() = std::move(call);
      deps_.outbox->Add(std::move(message), absl::FromUnixSeconds(now),
                        &action->state);
      entry.set_kind(haven::v1::HANDLE_ISSUED);
      entry.set_detail(absl::StrCat("to ", agency, Why(change.kind)));
    } else if (!live && existing.has_value()) {
      deps_.handles->Withdraw(*existing, &action->state);
      const bool revoked = change.kind == ConsentChange::Kind::kRevoked &&
                           change.consent.status() == haven::v1::REVOKED;
      // A membership change or refusal names no consent: the grantee is
      // told only that its handle is gone (and, for a refusal, why).
      Notify(existing->handle(), by_agency ? "" : change.consent.consent_id(),
             refusal   ? "refused"
             : revoked ? "revoked"
                       : "withdrawn",
             /*withdrawn=*/true, action);
      entry.set_kind(haven::v1::HANDLE_WITHDRAWN);
      entry.set_detail(absl::StrCat("from ", agency, Why(change.kind)));
    } else {
      // The handle stays (another consent keeps it), but the grantee is
      // told this consent no longer covers it. Only a grantee the consent
      // covered: another grantee learning that a consent for the same
      // survivor changed could link its handle to that one.
      if (by_agency || member == nullptr || !Grants(change.consent, *member)) {
        continue;
      }
      if (const char* told = ToldWhileKept(change.kind);
          existing.has_value() && told != nullptr) {
        Notify(existing->handle(), change.consent.consent_id(), told,
               /*withdrawn=*/false, action);
      }
      continue;
    }
    if (by_agency) {
      // The holder's own log: the consents that now cover the member.
      for (const std::string& id : covering) entry.add_consent_ids(id);
    } else if (!change.consent.consent_id().empty()) {
      entry.add_consent_ids(change.consent.consent_id());
    }
    action->entries.push_back(deps_.audit->Stamped(
        std::move(entry), change.actor, change.subject_id));
  }
  return absl::OkStatus();
}

void ConsentFanout::AfterCommit() {
  if (deps_.deliver) deps_.deliver();
}

}  // namespace haven::server::exchange

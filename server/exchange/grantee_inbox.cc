#include "server/exchange/grantee_inbox.h"

#include "absl/strings/str_cat.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "server/exchange/signing.h"
#include "server/node/event_log.h"

namespace haven::server::exchange {
namespace {

using limits::kMaxAgencyIdBytes;
using limits::kMaxHandleOfferBytes;
using limits::kMaxNoticeIdBytes;
using limits::kMaxRevocationNoticeBytes;
using limits::kPeerSignatureBytes;

bool IsChange(absl::string_view change) {
  return change == "revoked" || change == "paused" || change == "refused" ||
         change == "withdrawn";
}

absl::Status CheckSignatureSize(absl::string_view signature) {
  if (signature.size() != kPeerSignatureBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a holder's signature is ", kPeerSignatureBytes, " bytes (Ed25519)"));
  }
  return absl::OkStatus();
}

absl::Status CheckAgencyId(absl::string_view id) {
  if (id.size() > kMaxAgencyIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("an agency id is at most ", kMaxAgencyIdBytes, " bytes"));
  }
  return absl::OkStatus();
}

// Every field of an offer within its limit (see the class comment).
absl::Status CheckOfferBounds(const haven::v1::OfferHandleRequest& request) {
  if (request.ByteSizeLong() > kMaxHandleOfferBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a handle offer is at most ", kMaxHandleOfferBytes, " bytes"));
  }
  HAVEN_RETURN_IF_ERROR(CheckSignatureSize(request.signature()));
  const haven::v1::SubjectHandle& handle = request.handle();
  if (!IsNodeId(handle.handle())) {
    return absl::InvalidArgumentError(
        "a handle is 32 lower-case hex characters");
  }
  HAVEN_RETURN_IF_ERROR(CheckAgencyId(handle.holder_agency_id()));
  return CheckAgencyId(handle.grantee_agency_id());
}

// Every field of a notice within its limit.
absl::Status CheckNoticeBounds(
    const haven::v1::NotifyRevocationRequest& request) {
  if (request.ByteSizeLong() > kMaxRevocationNoticeBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a revocation notice is at most ",
                     kMaxRevocationNoticeBytes, " bytes"));
  }
  HAVEN_RETURN_IF_ERROR(CheckSignatureSize(request.signature()));
  const haven::v1::RevocationNotice& notice = request.notice();
  if (notice.notice_id().size() > kMaxNoticeIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a notice id is at most ", kMaxNoticeIdBytes, " bytes"));
  }
  HAVEN_RETURN_IF_ERROR(CheckAgencyId(notice.holder_agency_id()));
  if (!IsNodeId(notice.handle()) ||
      (!notice.consent_id().empty() && !IsNodeId(notice.consent_id()))) {
    return absl::InvalidArgumentError(
        "a notice names a handle and, if any, a consent: 32 lower-case hex "
        "characters each");
  }
  if (!IsChange(notice.change())) {
    return absl::InvalidArgumentError(
        "a notice's change is revoked, paused, refused or withdrawn");
  }
  return absl::OkStatus();
}

// The subject key a grantee's entries use: it never learns the subject id,
// so its pseudonym is of the holder's handle.
std::string HandleSubject(const std::string& holder,
                          const std::string& handle) {
  return absl::StrCat(holder, "/", handle);
}

}  // namespace

absl::Status GranteeInbox::AcceptHandle(
    const haven::v1::Member& peer,
    const haven::v1::OfferHandleRequest& request) {
  HAVEN_RETURN_IF_ERROR(KeepHandle(peer, request));
  node::LogEvent("handle_received", {{"holder", peer.agency_id()}});
  return absl::OkStatus();
}

absl::Status GranteeInbox::AcceptNotice(
    const haven::v1::Member& peer,
    const haven::v1::NotifyRevocationRequest& request) {
  HAVEN_RETURN_IF_ERROR(KeepNotice(peer, request));
  node::LogEvent(
      "revocation_notice_received",
      {{"holder", peer.agency_id()}, {"change", request.notice().change()}});
  return absl::OkStatus();
}

absl::Status GranteeInbox::KeepHandle(
    const haven::v1::Member& peer,
    const haven::v1::OfferHandleRequest& request) {
  HAVEN_RETURN_IF_ERROR(CheckOfferBounds(request));
  HAVEN_RETURN_IF_ERROR(VerifySignedBy(peer, kHandleContext,
                                       Deterministic(request.handle()),
                                       request.signature()));
  const haven::v1::SubjectHandle& handle = request.handle();
  if (handle.holder_agency_id() != peer.agency_id() ||
      handle.grantee_agency_id() != deps_.agency_id) {
    return absl::PermissionDeniedError(
        "handle is not from the calling agency or not for this one");
  }
  absl::MutexLock lock(&mu_);
  HAVEN_ASSIGN_OR_RETURN(
      std::optional<haven::v1::SubjectHandle> held,
      deps_.handles->FindReceived(peer.agency_id(), handle.handle()));
  if (held.has_value()) return absl::OkStatus();
  HAVEN_ASSIGN_OR_RETURN(size_t count,
                         deps_.handles->CountReceived(peer.agency_id()));
  if (count >= deps_.max_handles_per_holder) {
    return absl::ResourceExhaustedError(
        absl::StrCat("this node holds ", deps_.max_handles_per_holder,
                     " handles from the calling agency already"));
  }
  haven::v1::SubjectHandle stored;
  stored.set_handle(handle.handle());
  stored.set_holder_agency_id(handle.holder_agency_id());
  stored.set_grantee_agency_id(handle.grantee_agency_id());
  stored.set_issued_unix(handle.issued_unix());
  audit::Action action;
  deps_.handles->StoreReceived(stored, &action.state);
  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::HANDLE_RECEIVED);
  entry.set_agency_id(peer.agency_id());
  action.entries.push_back(
      deps_.audit->Stamped(std::move(entry), peer.agency_id(),
                           HandleSubject(peer.agency_id(), handle.handle())));
  return deps_.audit->Commit(std::move(action)).status();
}

absl::Status GranteeInbox::KeepNotice(
    const haven::v1::Member& peer,
    const haven::v1::NotifyRevocationRequest& request) {
  HAVEN_RETURN_IF_ERROR(CheckNoticeBounds(request));
  HAVEN_RETURN_IF_ERROR(VerifySignedBy(peer, kNoticeContext,
                                       Deterministic(request.notice()),
                                       request.signature()));
  const haven::v1::RevocationNotice& notice = request.notice();
  if (notice.holder_agency_id() != peer.agency_id()) {
    return absl::PermissionDeniedError("notice is not from the calling agency");
  }
  absl::MutexLock lock(&mu_);
  HAVEN_ASSIGN_OR_RETURN(
      std::optional<haven::v1::SubjectHandle> held,
      deps_.handles->FindReceived(peer.agency_id(), notice.handle()));
  if (!held.has_value()) {
    // Nothing to tell anyone about a handle this node does not hold (a
    // repeat of a notice that withdrew it, or a holder's mistake).
    return absl::OkStatus();
  }
  audit::Action action;
  if (notice.handle_withdrawn()) {
    deps_.handles->ForgetReceived(peer.agency_id(), notice.handle(),
                                  &action.state);
  }
  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::REVOCATION_NOTICE_RECEIVED);
  entry.set_agency_id(peer.agency_id());
  if (!notice.consent_id().empty()) entry.add_consent_ids(notice.consent_id());
  entry.set_detail(absl::StrCat("consent ", notice.change()));
  action.entries.push_back(
      deps_.audit->Stamped(std::move(entry), peer.agency_id(),
                           HandleSubject(peer.agency_id(), notice.handle())));
  HAVEN_RETURN_IF_ERROR(deps_.audit->Commit(std::move(action)).status());
  deps_.notices->Publish(notice);
  return absl::OkStatus();
}

}  // namespace haven::server::exchange

// havenctl consent …: consent and refusal, recorded by a survivor's advocate
// (advocate role).
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/consent_terms.h"
#include "client/cli/consent_text.h"
#include "client/cli/decision_output.h"
#include "client/cli/node_call.h"

namespace haven::client::cli {
namespace {

namespace v1 = ::haven::v1;

// The consent calls answer with the signed receipt: JSON of the receipt
// itself with --json, its block otherwise.
template <typename Response>
int PrintReceiptOf(const Invocation& in,
                   const absl::StatusOr<Response>& response) {
  return PrintResponse(
      in, PartOf(response, [](const Response& r) { return r.receipt(); }),
      PrintReceipt);
}

int Record(const Invocation& in) {
  v1::RecordConsentRequest request;
  if (absl::Status s = ParseTerms(in.args, true, request.mutable_consent());
      !s.ok()) {
    return UsageError(std::string(s.message()));
  }
  return PrintReceiptOf(in, CallNode(in, &NodeClient::RecordConsent, request));
}

int Amend(const Invocation& in) {
  if (int rc = RequireFlags(in.args, {"id"})) return rc;
  v1::AmendConsentRequest request;
  request.set_consent_id(in.args.GetOr("id", ""));
  if (absl::Status s = ParseTerms(in.args, false, request.mutable_consent());
      !s.ok()) {
    return UsageError(std::string(s.message()));
  }
  return PrintReceiptOf(in, CallNode(in, &NodeClient::AmendConsent, request));
}

using StatusMethod = absl::StatusOr<v1::ChangeConsentStatusResponse> (
    NodeClient::*)(const v1::ChangeConsentStatusRequest&) const;

int ChangeStatus(const Invocation& in, StatusMethod method, bool needs_reason) {
  if (int rc = RequireFlags(in.args, {"id"})) return rc;
  if (needs_reason) {
    if (int rc = RequireFlags(in.args, {"reason"})) return rc;
  }
  v1::ChangeConsentStatusRequest request;
  request.set_consent_id(in.args.GetOr("id", ""));
  request.set_reason(in.args.GetOr("reason", ""));
  return PrintReceiptOf(in, CallNode(in, method, request));
}

// Both refusal calls answer with the refusal as it now stands.
template <typename Response>
void PrintRefusalOf(const Response& response) {
  PrintRefusal(response.refusal());
}

int Refuse(const Invocation& in) {
  if (int rc = RequireFlags(in.args, {"subject"})) return rc;
  v1::RecordRefusalRequest request;
  request.set_subject_id(in.args.GetOr("subject", ""));
  request.set_agency_id(in.args.GetOr("agency", ""));
  if (in.args.Has("evidence-sha256")) {
    std::string bytes;
    if (absl::Status s =
            ParseSha256(in.args.GetOr("evidence-sha256", ""), &bytes);
        !s.ok()) {
      return UsageError(std::string(s.message()));
    }
    request.set_evidence_sha256(bytes);
  }
  return CallAndPrint(in, &NodeClient::RecordRefusal, request,
                      PrintRefusalOf<v1::RecordRefusalResponse>);
}

int Lift(const Invocation& in) {
  return CallWithFlags(in, &NodeClient::LiftRefusal,
                       {{"refusal", "refusal_id"}},
                       PrintRefusalOf<v1::LiftRefusalResponse>);
}

int Get(const Invocation& in) {
  return CallWithFlags(in, &NodeClient::GetConsent, {{"id", "consent_id"}},
                       PrintConsentHistory);
}

int List(const Invocation& in) {
  return CallWithFlags(in, &NodeClient::ListConsents,
                       {{"subject", "subject_id"}}, PrintConsentList);
}

// pause, resume and revoke: one call each, the reason required or not.
Command StatusCommand(std::string verb, std::string summary, std::string usage,
                      StatusMethod method, bool needs_reason) {
  return {"consent",
          std::move(verb),
          std::move(summary),
          std::move(usage),
          {"id", "reason"},
          [method, needs_reason](const Invocation& in) {
            return ChangeStatus(in, method, needs_reason);
          }};
}

std::set<std::string> With(std::set<std::string> flags,
                           std::initializer_list<std::string> more) {
  flags.insert(more);
  return flags;
}

}  // namespace

std::vector<Command> ConsentCommands() {
  return {
      {"consent", "record",
       "record a survivor's consent; prints the signed receipt",
       absl::StrCat("havenctl consent record --subject ID "
                    "(--grantee-agency ID | --grantee-sector SECTOR) "
                    "--purpose P --category C --until +90d [...]\n",
                    kTermsUsage),
       kTermFlags, Record},
      {"consent", "amend", "replace a consent's terms (a new version)",
       absl::StrCat("havenctl consent amend --id ID "
                    "(--grantee-agency ID | --grantee-sector SECTOR) "
                    "--purpose P --category C --until +90d [...]\n",
                    kTermsUsage),
       With(kTermFlags, {"id"}), Amend},
      StatusCommand("pause", "make a consent unusable until resumed",
                    "havenctl consent pause --id ID --reason TEXT\n"
                    "  The reason goes to the audit log: no personal data.",
                    &NodeClient::PauseConsent, true),
      StatusCommand("resume", "make a paused consent usable again",
                    "havenctl consent resume --id ID [--reason TEXT]",
                    &NodeClient::ResumeConsent, false),
      StatusCommand("revoke",
                    "revoke a consent for good (takes effect at once)",
                    "havenctl consent revoke --id ID --reason TEXT\n"
                    "  The reason goes to the audit log: no personal data.",
                    &NodeClient::RevokeConsent, true),
      {"consent",
       "refuse",
       "record a survivor's do-not-share for a subject",
       "havenctl consent refuse --subject ID [--agency ID] "
       "[--evidence-sha256 HEX]\n"
       "  Overrides every consent; only emergency rules pass it. With\n"
       "  --agency, only for that agency (a member of the federation): its\n"
       "  handle is withdrawn; other agencies keep what consents grant.",
       {"subject", "agency", "evidence-sha256"},
       Refuse},
      {"consent",
       "lift",
       "lift a refusal",
       "havenctl consent lift --refusal ID",
       {"refusal"},
       Lift},
      {"consent",
       "get",
       "show a consent's full history",
       "havenctl consent get --id ID",
       {"id"},
       Get},
      {"consent",
       "list",
       "list a subject's consents and refusals",
       "havenctl consent list --subject ID",
       {"subject"},
       List},
  };
}

}  // namespace haven::client::cli

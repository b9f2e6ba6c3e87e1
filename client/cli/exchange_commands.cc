// havenctl exchange …: ask other agencies for a subject's data through this
// node (caseworker role).
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/decision_output.h"
#include "client/cli/node_call.h"
#include "client/paged_reads.h"

namespace haven::client::cli {
namespace {

namespace v1 = ::haven::v1;

// The node answered: every category withheld is still a success.
void PrintDisclosure(const v1::RequestDisclosureResponse& response) {
  PrintDecision(response.decision());
  std::printf("\n%-20s %-16s %s\n", "FIELD", "CATEGORY", "VALUE");
  for (const v1::Field& field : response.fields()) {
    std::printf("%-20s %-16s %s\n", field.name().c_str(),
                v1::Category_Name(field.category()).c_str(),
                field.value().c_str());
  }
  if (response.fields().empty()) std::printf("(no fields disclosed)\n");
  std::printf(
      "\nholder audit index   %llu\nreceipt audit index  %llu\n"
      "data life            %lld days (%lld s)\n",
      static_cast<unsigned long long>(response.holder_audit_index()),
      static_cast<unsigned long long>(response.receipt_audit_index()),
      static_cast<long long>(response.data_life_seconds() / 86400),
      static_cast<long long>(response.data_life_seconds()));
}

int Handles(const Invocation& in) {
  auto client = in.client();
  if (!client.ok()) return Report(client.status());
  return PrintResponse(
      in, ListAllHandles(**client), [](const v1::ListHandlesResponse& all) {
        std::printf("%-24s %-34s %s\n", "HOLDER", "HANDLE", "ISSUED");
        for (const v1::SubjectHandle& h : all.handles()) {
          std::printf("%-24s %-34s %s\n", h.holder_agency_id().c_str(),
                      h.handle().c_str(), FormatUnix(h.issued_unix()).c_str());
        }
      });
}

int Request(const Invocation& in) {
  haven::v1::RequestDisclosureRequest request;
  if (int rc = ReadAsk(in.args, {"holder", "handle", "purpose"}, &request)) {
    return rc;
  }
  request.set_holder_agency_id(in.args.GetOr("holder", ""));
  request.set_handle(in.args.GetOr("handle", ""));

  return CallAndPrint(in, &NodeClient::RequestDisclosure, request,
                      PrintDisclosure);
}

int Watch(const Invocation& in) {
  int count = 0;
  if (in.args.Has("count") &&
      (!absl::SimpleAtoi(in.args.GetOr("count", ""), &count) || count <= 0)) {
    return UsageError("--count expects a positive whole number");
  }
  auto client = in.client();
  if (!client.ok()) return Report(client.status());
  // A watch runs until interrupted; with --count it must end in bounded time.
  auto reader = (*client)->WatchNotices(
      v1::WatchNoticesRequest(),
      count > 0 ? std::chrono::system_clock::now() + std::chrono::seconds(30)
                : std::chrono::system_clock::time_point::max());
  haven::v1::WatchNoticesResponse response;
  int seen = 0;
  while ((count == 0 || seen < count) && reader->Read(&response)) {
    ++seen;
    if (response.missed() > 0) {
      // The node keeps only its newest notices in memory; the audit log
      // has every one.
      std::fprintf(stderr,
                   "(%llu earlier notices were dropped from the node's memory "
                   "before this watch got them; each is in the audit log as "
                   "REVOCATION_NOTICE_RECEIVED)\n",
                   static_cast<unsigned long long>(response.missed()));
    }
    const haven::v1::RevocationNotice& n = response.notice();
    if (in.json) {
      std::puts(ToJson(n).c_str());
    } else {
      std::printf("%s %s holder=%s handle=%s consent=%s notice=%s\n",
                  FormatUnix(n.effective_unix()).c_str(), n.change().c_str(),
                  n.holder_agency_id().c_str(), n.handle().c_str(),
                  n.consent_id().empty() ? "-" : n.consent_id().c_str(),
                  n.notice_id().c_str());
    }
    std::fflush(stdout);
  }
  if (count > 0 && seen >= count) {
    reader->Cancel();
    (void)reader->Finish();
    return kExitOk;
  }
  absl::Status s = reader->Finish();
  if (!s.ok()) return Report(s);
  return kExitOk;
}

}  // namespace

std::vector<Command> ExchangeCommands() {
  return {
      {"exchange",
       "handles",
       "list the subject handles other agencies issued to this one",
       "havenctl exchange handles",
       {},
       Handles},
      {"exchange",
       "request",
       "ask a holder agency for a subject's data",
       "havenctl exchange request --holder AGENCY --handle H --purpose P "
       "--category C [--category C] [--justification TEXT]\n"
       "  Prints, per category, whether it was disclosed or withheld and "
       "why,\n"
       "  then the fields received. Exit 0 whenever the holder answered.",
       {"holder", "handle", "purpose", "category", "justification"},
       Request},
      {"exchange",
       "watch",
       "print revocation notices as they arrive",
       "havenctl exchange watch [--count N]\n"
       "  Prints the notices the node still holds (its newest ones), then\n"
       "  new ones. Without --count it runs until interrupted; with it, it\n"
       "  stops after N notices or 30 s. Notices the node dropped before the\n"
       "  watch got them are counted on stderr; the audit log has them all.",
       {"count"},
       Watch},
  };
}

}  // namespace haven::client::cli

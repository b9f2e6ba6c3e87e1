// havenctl audit report: a survivor's "who has seen my data" at this node,
// in three forms of one answer: blocks for staff, JSON for tools, and plain
// sentences an advocate can hand to the survivor (--plain). And the
// break-glass review queue (audit review, audit sign-off).
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/cli/commands.h"
#include "client/cli/decision_output.h"
#include "client/cli/entry_text.h"
#include "client/cli/json.h"
#include "client/cli/node_call.h"
#include "client/cli/report_text.h"
#include "client/paged_reads.h"

namespace haven::client::cli {
namespace {

int SubjectReport(const Invocation& in) {
  std::string subject = in.args.GetOr("subject", "");
  if (subject.empty()) return UsageError("--subject is required");
  const bool plain = in.args.Has("plain");
  auto client = in.client();
  if (!client.ok()) return Report(client.status());
  // Every page: a node returns at most a bounded page and where to go on.
  auto report = FetchSubjectAccessReport(**client, subject);
  if (!report.ok()) return Report(report.status());
  const haven::v1::SubjectAccessReportResponse& response = *report;

  if (in.json) {
    std::vector<std::string> items;
    for (const auto& indexed : response.entries()) {
      const haven::v1::AuditEntry& e = indexed.entry();
      JsonObject item;
      item.Add("index", static_cast<uint64_t>(indexed.index()))
          .Add("time", FormatTime(e.time_unix_nanos()))
          .Add("kind", haven::v1::EntryKind_Name(e.kind()))
          .Add("principal", e.principal())
          .Add("agency_id", e.agency_id())
          .Add("detail", e.detail());
      AddAskedAndGiven(e, &item);
      AddJustification(e, &item);
      items.push_back(item.str());
    }
    std::printf("[%s]\n", absl::StrJoin(items, ",").c_str());
    return kExitOk;
  }
  if (plain) {
    std::printf(
        "Who has seen or changed your information at this agency, and what "
        "was shared with other agencies.\n\n");
    if (response.entries().empty()) {
      std::printf("Nothing is on record about you here.\n");
    }
    for (const auto& indexed : response.entries()) {
      std::printf("- %s\n", PlainSentence(indexed.entry()).c_str());
    }
    std::printf(
        "\nEvery line comes from this agency's tamper-evident log (entry "
        "numbers are in `havenctl audit report`).\n");
    return kExitOk;
  }
  if (response.entries().empty()) {
    std::printf("nothing about this subject is on record\n");
    return kExitOk;
  }
  // Local actions one line each; peer requests as decision blocks.
  google::protobuf::RepeatedPtrField<haven::v1::IndexedEntry> decision;
  for (const auto& indexed : response.entries()) {
    const haven::v1::AuditEntry& e = indexed.entry();
    if (IsDecision(e)) {
      decision.Clear();
      *decision.Add() = indexed;
      PrintDecisions(in, decision, "");
      continue;
    }
    std::printf("%s  %s  by %s%s%s  (audit entry %llu)\n",
                FormatTime(e.time_unix_nanos()).c_str(), Action(e).c_str(),
                e.principal().empty() ? "-" : e.principal().c_str(),
                e.detail().empty() ? "" : "  ", e.detail().c_str(),
                static_cast<unsigned long long>(indexed.index()));
  }
  return kExitOk;
}

int Review(const Invocation& in) {
  haven::v1::ListBreakGlassReviewsRequest request;
  request.set_include_signed_off(in.args.Has("all"));
  auto called = CallNode(in, &NodeClient::ListBreakGlassReviews, request);
  if (!called.ok()) return Report(called.status());
  const haven::v1::ListBreakGlassReviewsResponse& response = *called;
  if (in.json) {
    std::vector<std::string> items;
    for (const auto& review : response.reviews()) {
      const haven::v1::AuditEntry& d = review.decision().entry();
      const haven::v1::AuditEntry& o = review.sign_off().entry();
      JsonObject item;
      item.Add("index", static_cast<uint64_t>(review.decision().index()))
          .Add("time", FormatTime(d.time_unix_nanos()))
          .Add("kind", ReportKind(d))
          .Add("agency_id", d.agency_id())
          .Add("given", CategoryNames(d.given()))
          .Add("justification", d.justification())
          .Add("signed_off", review.has_sign_off());
      if (review.has_sign_off()) {
        item.Add("sign_off_index",
                 static_cast<uint64_t>(review.sign_off().index()))
            .Add("reviewer", o.principal())
            .Add("note", o.justification());
      }
      items.push_back(item.str());
    }
    std::printf("[%s]\n", absl::StrJoin(items, ",").c_str());
    return kExitOk;
  }
  if (response.reviews().empty()) {
    std::printf("no break-glass decision awaits review\n");
    return kExitOk;
  }
  for (const auto& review : response.reviews()) {
    const haven::v1::AuditEntry& d = review.decision().entry();
    std::printf("entry %llu  %s  %s to %s  given: %s\n  justification: %s\n",
                static_cast<unsigned long long>(review.decision().index()),
                FormatTime(d.time_unix_nanos()).c_str(), ReportKind(d).c_str(),
                d.agency_id().c_str(),
                d.given().empty()
                    ? "nothing"
                    : absl::StrJoin(CategoryNames(d.given()), ", ").c_str(),
                d.justification().c_str());
    if (review.has_sign_off()) {
      const haven::v1::AuditEntry& o = review.sign_off().entry();
      std::printf("  signed off by %s at %s (entry %llu): %s\n",
                  o.principal().c_str(),
                  FormatTime(o.time_unix_nanos()).c_str(),
                  static_cast<unsigned long long>(review.sign_off().index()),
                  o.justification().c_str());
    } else {
      std::printf("  PENDING REVIEW\n");
    }
  }
  return kExitOk;
}

int SignOff(const Invocation& in) {
  if (int rc = RequireFlags(in.args, {"index", "note"})) return rc;
  uint64_t index = 0;
  if (!absl::SimpleAtoi(in.args.GetOr("index", ""), &index)) {
    return UsageError("--index takes a log index");
  }
  haven::v1::SignOffBreakGlassRequest request;
  request.set_index(index);
  request.set_note(in.args.GetOr("note", ""));
  auto called = CallNode(in, &NodeClient::SignOffBreakGlass, request);
  if (!called.ok()) return Report(called.status());
  const haven::v1::SignOffBreakGlassResponse& response = *called;
  if (in.json) {
    std::printf("%s\n", JsonObject()
                            .Add("index", index)
                            .Add("audit_index",
                                 static_cast<uint64_t>(response.audit_index()))
                            .str()
                            .c_str());
  } else {
    std::printf("entry %llu signed off (audit entry %llu)\n",
                static_cast<unsigned long long>(index),
                static_cast<unsigned long long>(response.audit_index()));
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> ReportCommands() {
  return {{"audit",
           "report",
           "subject access report: who read, changed or received her data",
           "havenctl audit report --subject ID [--json | --plain]\n"
           "  Everything on record about one subject at this node: staff\n"
           "  reads and writes of her records (by principal), consent and\n"
           "  do-not-share changes, handles issued to and withdrawn from\n"
           "  agencies, every disclosure, refused request and break-glass use\n"
           "  (to whom, what was given and withheld and why, for what\n"
           "  purpose), oldest first. --plain prints sentences an advocate\n"
           "  can hand to the survivor. Advocate or auditor role.",
           {"subject", "plain"},
           SubjectReport},
          {"audit",
           "review",
           "break-glass decisions awaiting an auditor's sign-off",
           "havenctl audit review [--all] [--json]\n"
           "  Every break-glass decision not yet signed off (with --all, the\n"
           "  signed-off ones too, with reviewer and note): when, for which\n"
           "  agency, what was given, the written justification. Auditor\n"
           "  role.",
           {"all"},
           Review},
          {"audit",
           "sign-off",
           "sign off a break-glass decision after review (logged)",
           "havenctl audit sign-off --index N --note TEXT\n"
           "  Records the review of break-glass decision N with a note of at\n"
           "  least 10 characters, as a BREAK_GLASS_REVIEWED entry. Each\n"
           "  decision is signed off once. Auditor role.",
           {"index", "note"},
           SignOff}};
}

}  // namespace haven::client::cli

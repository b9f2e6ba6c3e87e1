// havenctl audit report: a survivor's "who has seen my data" at this node,
// in three forms of one answer: blocks for staff, JSON for tools, and plain
// sentences an advocate can hand to the survivor (--plain). And the
// break-glass review queue (audit review, audit sign-off).
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "client/cli/commands.h"
#include "client/cli/decision_output.h"
#include "client/cli/entry_text.h"
#include "client/cli/json.h"
#include "client/cli/rpc.h"
#include "haven/v1/audit.grpc.pb.h"

namespace haven::client::cli {
namespace {

using haven::v1::AuditService;

bool IsDecision(const haven::v1::AuditEntry& e) {
  return e.kind() == haven::v1::DISCLOSURE ||
         e.kind() == haven::v1::REQUEST_REFUSED ||
         e.kind() == haven::v1::BREAK_GLASS;
}

// "legal representation", "contact and immigration".
std::string Words(std::string enum_name) {
  absl::AsciiStrToLower(&enum_name);
  return absl::StrReplaceAll(enum_name, {{"_", " "}});
}
std::string CategoryWords(
    const google::protobuf::RepeatedField<int>& categories) {
  std::vector<std::string> words;
  for (const std::string& name : CategoryNames(categories)) {
    words.push_back(Words(name));
  }
  if (words.size() <= 1) return absl::StrJoin(words, "");
  std::string last = words.back();
  words.pop_back();
  return absl::StrCat(absl::StrJoin(words, ", "), " and ", last);
}

// What happened, in a few words, for the one-line form (local actions).
std::string Action(const haven::v1::AuditEntry& e) {
  switch (e.kind()) {
    case haven::v1::RECORD_READ:
      return "record read";
    case haven::v1::RECORD_WRITTEN:
      return "record written";
    case haven::v1::SUBJECT_ERASED:
      return "records erased";
    case haven::v1::CONSENT_RECORDED:
      return "consent recorded";
    case haven::v1::CONSENT_AMENDED:
      return "consent amended";
    case haven::v1::CONSENT_PAUSED:
      return "consent paused";
    case haven::v1::CONSENT_RESUMED:
      return "consent resumed";
    case haven::v1::CONSENT_REVOKED:
      return "consent revoked";
    case haven::v1::REFUSAL_RECORDED:
      return "do-not-share recorded";
    case haven::v1::REFUSAL_LIFTED:
      return "do-not-share lifted";
    case haven::v1::HANDLE_ISSUED:
      return "handle issued";
    case haven::v1::HANDLE_WITHDRAWN:
      return "handle withdrawn";
    default:
      return Words(haven::v1::EntryKind_Name(e.kind()));
  }
}

// One sentence for the survivor. Names staff accounts and agencies as the
// log has them; says nothing the log does not.
std::string PlainSentence(const haven::v1::AuditEntry& e) {
  const std::string when = absl::FormatTime(
      "On %e %B %Y at %H:%M UTC, ", absl::FromUnixNanos(e.time_unix_nanos()),
      absl::UTCTimeZone());
  const std::string who = e.principal().empty()
                              ? std::string("this agency")
                              : absl::StrCat("staff account ", e.principal());
  const std::string purpose = Words(haven::v1::Purpose_Name(e.purpose()));
  switch (e.kind()) {
    case haven::v1::RECORD_READ:
      return absl::StrCat(when, who, " read your record here.");
    case haven::v1::RECORD_WRITTEN:
      return absl::StrCat(when, who, " added to or changed your record here.");
    case haven::v1::SUBJECT_ERASED:
      return absl::StrCat(when, who, " erased your records here.");
    case haven::v1::CONSENT_RECORDED:
      return absl::StrCat(when, "your consent to share was recorded by ", who,
                          ".");
    case haven::v1::CONSENT_AMENDED:
      return absl::StrCat(when, "your consent was changed by ", who, ".");
    case haven::v1::CONSENT_PAUSED:
      return absl::StrCat(when, "your consent was paused by ", who, ".");
    case haven::v1::CONSENT_RESUMED:
      return absl::StrCat(when, "your consent was resumed by ", who, ".");
    case haven::v1::CONSENT_REVOKED:
      return absl::StrCat(when, "your consent was withdrawn by ", who,
                          "; nothing more is shared under it.");
    case haven::v1::REFUSAL_RECORDED:
      return absl::StrCat(when, "your wish not to share was recorded by ", who,
                          ".");
    case haven::v1::REFUSAL_LIFTED:
      return absl::StrCat(when, "your wish not to share was lifted by ", who,
                          ".");
    case haven::v1::HANDLE_ISSUED:
      return absl::StrCat(when, "agency ", e.detail().substr(3),
                          " was given a reference to ask about you, because "
                          "of your consent.");
    case haven::v1::HANDLE_WITHDRAWN:
      return absl::StrCat(when, "agency ", e.detail().substr(5),
                          " lost its reference to ask about you.");
    case haven::v1::DISCLOSURE: {
      std::string s = absl::StrCat(
          when, "this agency shared your ", CategoryWords(e.given()),
          " information with ", e.agency_id(), " for ", purpose);
      if (e.break_glass()) {
        absl::StrAppend(&s, ", in an emergency, with the reason \"",
                        e.justification(), "\"");
      }
      if (!e.withheld().empty()) {
        absl::StrAppend(&s, "; it did not share the rest they asked for");
      }
      return absl::StrCat(s, ".");
    }
    case haven::v1::REQUEST_REFUSED:
      return absl::StrCat(when, e.agency_id(), " asked for your ",
                          CategoryWords(e.asked()), " information for ",
                          purpose, "; nothing was shared.");
    default:
      return absl::StrCat(when, Action(e), ".");
  }
}

int SubjectReport(const Invocation& in) {
  std::string subject = in.args.GetOr("subject", "");
  if (subject.empty()) return UsageError("--subject is required");
  const bool plain = in.args.Has("plain");
  // Every page: a node returns at most a bounded page and where to go on.
  haven::v1::SubjectAccessReportResponse response;
  for (uint64_t start = 0;;) {
    haven::v1::SubjectAccessReportRequest request;
    request.set_subject_id(subject);
    request.set_start(start);
    haven::v1::SubjectAccessReportResponse page;
    absl::Status s = CallUnary<AuditService>(
        in, &AuditService::Stub::SubjectAccessReport, request, &page);
    if (!s.ok()) return Report(s);
    for (auto& e : *page.mutable_entries()) {
      *response.add_entries() = std::move(e);
    }
    if (page.next_start() == 0) break;
    if (page.next_start() <= start) {
      return Report(
          absl::DataLossError("the node's report pages do not advance"));
    }
    start = page.next_start();
  }

  if (in.json) {
    std::vector<std::string> items;
    for (const auto& indexed : response.entries()) {
      const haven::v1::AuditEntry& e = indexed.entry();
      items.push_back(JsonObject()
                          .Add("index", static_cast<uint64_t>(indexed.index()))
                          .Add("time", FormatTime(e.time_unix_nanos()))
                          .Add("kind", haven::v1::EntryKind_Name(e.kind()))
                          .Add("principal", e.principal())
                          .Add("agency_id", e.agency_id())
                          .Add("detail", e.detail())
                          .Add("purpose", haven::v1::Purpose_Name(e.purpose()))
                          .Add("asked", CategoryNames(e.asked()))
                          .Add("given", CategoryNames(e.given()))
                          .AddRaw("withheld", WithheldJson(e))
                          .Add("break_glass", e.break_glass())
                          .Add("justification", e.justification())
                          .Add("request_id", e.request_id())
                          .str());
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
  haven::v1::ListBreakGlassReviewsResponse response;
  absl::Status s = CallUnary<AuditService>(
      in, &AuditService::Stub::ListBreakGlassReviews, request, &response);
  if (!s.ok()) return Report(s);
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
  haven::v1::SignOffBreakGlassResponse response;
  absl::Status s = CallUnary<AuditService>(
      in, &AuditService::Stub::SignOffBreakGlass, request, &response);
  if (!s.ok()) return Report(s);
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

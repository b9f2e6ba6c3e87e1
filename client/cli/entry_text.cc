#include "client/cli/entry_text.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/cli/json.h"
#include "client/cli/node_call.h"

namespace haven::client::cli {

std::string FormatTime(int64_t unix_nanos) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixNanos(unix_nanos),
                          absl::UTCTimeZone());
}

std::vector<std::string> CategoryNames(
    const google::protobuf::RepeatedField<int>& categories) {
  std::vector<std::string> names;
  for (int c : categories) {
    names.push_back(
        haven::v1::Category_Name(static_cast<haven::v1::Category>(c)));
  }
  return names;
}

std::string WithheldText(const haven::v1::AuditEntry& entry) {
  std::vector<std::string> parts;
  for (const auto& w : entry.withheld()) {
    parts.push_back(absl::StrCat(haven::v1::Category_Name(w.category()), " (",
                                 haven::v1::DecisionReason_Name(w.reason()),
                                 ")"));
  }
  return absl::StrJoin(parts, ", ");
}

std::string WithheldJson(const haven::v1::AuditEntry& entry) {
  std::vector<std::string> items;
  for (const auto& w : entry.withheld()) {
    items.push_back(
        JsonObject()
            .Add("category", haven::v1::Category_Name(w.category()))
            .Add("reason", haven::v1::DecisionReason_Name(w.reason()))
            .Add("rule", w.rule())
            .str());
  }
  return "[" + absl::StrJoin(items, ",") + "]";
}

std::string ReportKind(const haven::v1::AuditEntry& e) {
  switch (e.kind()) {
    case haven::v1::DISCLOSURE:
      return e.break_glass() ? "break-glass disclosure" : "disclosure";
    case haven::v1::REQUEST_REFUSED:
      return "refused request";
    case haven::v1::BREAK_GLASS:
      return "break-glass";
    default:
      return haven::v1::EntryKind_Name(e.kind());
  }
}

void AddAskedAndGiven(const haven::v1::AuditEntry& e, JsonObject* out) {
  out->Add("purpose", haven::v1::Purpose_Name(e.purpose()))
      .Add("asked", CategoryNames(e.asked()))
      .Add("given", CategoryNames(e.given()))
      .AddRaw("withheld", WithheldJson(e));
}

void AddJustification(const haven::v1::AuditEntry& e, JsonObject* out) {
  out->Add("break_glass", e.break_glass())
      .Add("justification", e.justification())
      .Add("request_id", e.request_id());
}

// Disclosures and refusals, one block each (or a JSON array).
int PrintDecisions(
    const Invocation& in,
    const google::protobuf::RepeatedPtrField<haven::v1::IndexedEntry>& entries,
    const char* none) {
  if (in.json) {
    std::vector<std::string> items;
    for (const auto& indexed : entries) {
      const haven::v1::AuditEntry& e = indexed.entry();
      JsonObject item;
      item.Add("index", static_cast<uint64_t>(indexed.index()))
          .Add("time", FormatTime(e.time_unix_nanos()))
          .Add("kind", ReportKind(e))
          .Add("agency_id", e.agency_id());
      AddAskedAndGiven(e, &item);
      item.Add("consent_ids", std::vector<std::string>(e.consent_ids().begin(),
                                                       e.consent_ids().end()));
      AddJustification(e, &item);
      items.push_back(item.str());
    }
    std::printf("[%s]\n", absl::StrJoin(items, ",").c_str());
    return kExitOk;
  }
  if (entries.empty()) {
    std::printf("%s\n", none);
    return kExitOk;
  }
  for (const auto& indexed : entries) {
    const haven::v1::AuditEntry& e = indexed.entry();
    std::printf("%s  %s %s %s\n", FormatTime(e.time_unix_nanos()).c_str(),
                ReportKind(e).c_str(),
                e.kind() == haven::v1::REQUEST_REFUSED ? "from" : "to",
                e.agency_id().empty() ? "-" : e.agency_id().c_str());
    std::printf("  purpose:  %s\n",
                haven::v1::Purpose_Name(e.purpose()).c_str());
    std::printf("  given:    %s\n",
                e.given().empty()
                    ? "nothing"
                    : absl::StrJoin(CategoryNames(e.given()), ", ").c_str());
    if (!e.withheld().empty()) {
      std::printf("  withheld: %s\n", WithheldText(e).c_str());
    }
    if (!e.consent_ids().empty()) {
      std::printf("  consent:  %s\n",
                  absl::StrJoin(e.consent_ids(), ", ").c_str());
    }
    if (e.break_glass() || !e.justification().empty()) {
      std::printf("  justification: %s\n", e.justification().c_str());
    }
    std::printf("  (audit entry %llu)\n",
                static_cast<unsigned long long>(indexed.index()));
  }
  return kExitOk;
}

void PrintEntry(const Invocation& in, const haven::v1::IndexedEntry& indexed) {
  const haven::v1::AuditEntry& e = indexed.entry();
  if (in.json) {
    std::string line = JsonObject()
                           .Add("index", static_cast<uint64_t>(indexed.index()))
                           .AddRaw("entry", ToJson(e))
                           .str();
    std::printf("%s\n", line.c_str());
  } else {
    std::string line = absl::StrCat(
        indexed.index(), "  ", FormatTime(e.time_unix_nanos()), "  ",
        haven::v1::EntryKind_Name(e.kind()),
        "  agency=", e.agency_id().empty() ? "-" : e.agency_id(),
        "  principal=", e.principal().empty() ? "-" : e.principal());
    if (e.purpose() != haven::v1::PURPOSE_UNSPECIFIED) {
      absl::StrAppend(&line,
                      "  purpose=", haven::v1::Purpose_Name(e.purpose()));
    }
    if (!e.given().empty()) {
      absl::StrAppend(&line,
                      "  given=", absl::StrJoin(CategoryNames(e.given()), ","));
    }
    if (!e.withheld().empty()) {
      absl::StrAppend(&line, "  withheld=", WithheldText(e));
    }
    if (!e.detail().empty()) absl::StrAppend(&line, "  (", e.detail(), ")");
    std::printf("%s\n", line.c_str());
  }
  std::fflush(stdout);
}

}  // namespace haven::client::cli

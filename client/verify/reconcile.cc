#include "client/verify/reconcile.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace haven::client {
namespace {

using haven::v1::AuditEntry;
using haven::v1::EntryKind;
using haven::v1::IndexedEntry;

struct Side {
  // Request id -> (index, entry), the first on record.
  std::map<std::string, std::pair<uint64_t, AuditEntry>> by_request;
};

bool IsExchangeKind(EntryKind kind) {
  return kind == haven::v1::DISCLOSURE || kind == haven::v1::REQUEST_REFUSED ||
         kind == haven::v1::DISCLOSURE_RECEIVED;
}

// A finding on one side, a (is_a) or b.
ReconcileFinding OnSide(bool is_a, ReconcileFinding::Type type,
                        const std::string& request_id, uint64_t index) {
  ReconcileFinding f;
  f.type = type;
  f.request_id = request_id;
  (is_a ? f.index_a : f.index_b) = index;
  return f;
}

Side Collect(const ReconcileSide& side, absl::string_view other_agency,
             bool is_a, std::vector<ReconcileFinding>* findings) {
  Side out;
  if (side.entries == nullptr) return out;
  for (const IndexedEntry& indexed : *side.entries) {
    AuditEntry parsed;
    const AuditEntry* entry = &indexed.entry();
    if (!indexed.has_entry()) {
      // A leaf that does not parse is no exchange entry; the log's own
      // verification (audit verify) is what reports it.
      if (!parsed.ParseFromString(indexed.leaf())) continue;
      entry = &parsed;
    }
    if (!IsExchangeKind(entry->kind()) || entry->agency_id() != other_agency ||
        entry->request_id().empty()) {
      continue;
    }
    auto [it, inserted] = out.by_request.try_emplace(entry->request_id(),
                                                     indexed.index(), *entry);
    if (!inserted) {
      ReconcileFinding f = OnSide(is_a, ReconcileFinding::Type::kDuplicate,
                                  entry->request_id(), it->second.first);
      f.duplicate_index = indexed.index();
      findings->push_back(std::move(f));
    }
  }
  return out;
}

// Whether a holder's and a requester's kinds can be the two sides of one
// exchange (see the table in reconcile.h), in either order.
bool KindsCorrespond(EntryKind a, EntryKind b) {
  auto holder_requester = [](EntryKind holder, EntryKind requester) {
    if (holder == haven::v1::DISCLOSURE) {
      return requester == haven::v1::DISCLOSURE_RECEIVED;
    }
    if (holder == haven::v1::REQUEST_REFUSED) {
      return requester == haven::v1::DISCLOSURE_RECEIVED ||
             requester == haven::v1::REQUEST_REFUSED;
    }
    return false;
  };
  return holder_requester(a, b) || holder_requester(b, a);
}

std::string CategorySet(const google::protobuf::RepeatedField<int>& list) {
  std::set<std::string> names;
  for (int c : list) {
    names.insert(haven::v1::Category_Name(static_cast<haven::v1::Category>(c)));
  }
  return names.empty() ? "none" : absl::StrJoin(names, ",");
}

std::string WithheldSet(const AuditEntry& e) {
  std::set<std::string> items;
  for (const auto& w : e.withheld()) {
    items.insert(absl::StrCat(haven::v1::Category_Name(w.category()), "(",
                              haven::v1::DecisionReason_Name(w.reason()), ")"));
  }
  return items.empty() ? "none" : absl::StrJoin(items, ",");
}

std::string ConsentRefs(const AuditEntry& e) {
  std::set<std::string> refs(e.consent_ids().begin(), e.consent_ids().end());
  return refs.empty() ? "none" : absl::StrJoin(refs, ",");
}

std::string Time(int64_t unix_nanos) {
  return absl::FormatTime(absl::RFC3339_full, absl::FromUnixNanos(unix_nanos),
                          absl::UTCTimeZone());
}

void ComparePair(const std::string& request_id, uint64_t index_a,
                 const AuditEntry& a, uint64_t index_b, const AuditEntry& b,
                 const ReconcileOptions& options,
                 std::vector<ReconcileFinding>* findings) {
  auto report = [&](const char* field, std::string value_a,
                    std::string value_b) {
    ReconcileFinding f;
    f.type = ReconcileFinding::Type::kMismatch;
    f.request_id = request_id;
    f.field = field;
    f.index_a = index_a;
    f.index_b = index_b;
    f.value_a = std::move(value_a);
    f.value_b = std::move(value_b);
    findings->push_back(std::move(f));
  };
  auto differ = [&](const char* field, std::string value_a,
                    std::string value_b) {
    if (value_a != value_b)
      report(field, std::move(value_a), std::move(value_b));
  };
  // Equal kinds do not correspond either (two disclosures of one request).
  if (!KindsCorrespond(a.kind(), b.kind())) {
    report("kind", haven::v1::EntryKind_Name(a.kind()),
           haven::v1::EntryKind_Name(b.kind()));
  }
  differ("purpose", haven::v1::Purpose_Name(a.purpose()),
         haven::v1::Purpose_Name(b.purpose()));
  differ("asked", CategorySet(a.asked()), CategorySet(b.asked()));
  differ("given", CategorySet(a.given()), CategorySet(b.given()));
  differ("withheld", WithheldSet(a), WithheldSet(b));
  differ("policy_version", a.policy_version(), b.policy_version());
  differ("consent_ids", ConsentRefs(a), ConsentRefs(b));
  // Compared in nanoseconds, so no rounding hides a gap just beyond the
  // tolerance.
  const absl::Duration gap =
      absl::AbsDuration(absl::Nanoseconds(a.time_unix_nanos()) -
                        absl::Nanoseconds(b.time_unix_nanos()));
  if (gap > options.tolerance) {
    report("time", Time(a.time_unix_nanos()), Time(b.time_unix_nanos()));
  }
}

}  // namespace

ReconcileReport ReconcileExchanges(const ReconcileSide& a,
                                   const ReconcileSide& b,
                                   const ReconcileOptions& options) {
  ReconcileReport report;
  std::vector<ReconcileFinding>& findings = report.findings;
  const Side side_a = Collect(a, b.agency_id, /*is_a=*/true, &findings);
  const Side side_b = Collect(b, a.agency_id, /*is_a=*/false, &findings);
  for (const auto& [id, at_a] : side_a.by_request) {
    auto at_b = side_b.by_request.find(id);
    if (at_b == side_b.by_request.end()) {
      ReconcileFinding f =
          OnSide(true, ReconcileFinding::Type::kUnpaired, id, at_a.first);
      f.value_a = haven::v1::EntryKind_Name(at_a.second.kind());
      findings.push_back(std::move(f));
      continue;
    }
    ++report.paired;
    ComparePair(id, at_a.first, at_a.second, at_b->second.first,
                at_b->second.second, options, &findings);
  }
  for (const auto& [id, at_b] : side_b.by_request) {
    if (side_a.by_request.count(id)) continue;
    ReconcileFinding f =
        OnSide(false, ReconcileFinding::Type::kUnpaired, id, at_b.first);
    f.value_b = haven::v1::EntryKind_Name(at_b.second.kind());
    findings.push_back(std::move(f));
  }
  std::stable_sort(findings.begin(), findings.end(),
                   [](const ReconcileFinding& x, const ReconcileFinding& y) {
                     return x.request_id < y.request_id;
                   });
  return report;
}

std::string DescribeFinding(const ReconcileFinding& f,
                            absl::string_view agency_a,
                            absl::string_view agency_b) {
  auto at = [](absl::string_view agency, const std::optional<uint64_t>& i) {
    return absl::StrCat(agency, " #", i.value_or(0));
  };
  switch (f.type) {
    case ReconcileFinding::Type::kUnpaired: {
      const bool is_a = f.index_a.has_value();
      return absl::StrCat(
          "UNPAIRED request ", f.request_id, ": ",
          at(is_a ? agency_a : agency_b, is_a ? f.index_a : f.index_b), " ",
          is_a ? f.value_a : f.value_b, " has no entry at ",
          is_a ? agency_b : agency_a);
    }
    case ReconcileFinding::Type::kDuplicate: {
      const bool is_a = f.index_a.has_value();
      return absl::StrCat("DUPLICATE request ", f.request_id,
                          ": on record twice at ", is_a ? agency_a : agency_b,
                          " (#", (is_a ? f.index_a : f.index_b).value_or(0),
                          " and #", f.duplicate_index.value_or(0), ")");
    }
    case ReconcileFinding::Type::kMismatch:
      return absl::StrCat("MISMATCH request ", f.request_id, " ", f.field, ": ",
                          at(agency_a, f.index_a), " ", f.value_a, "; ",
                          at(agency_b, f.index_b), " ", f.value_b);
  }
  return "";
}

}  // namespace haven::client

// havenctl audit witnessed and reconcile: what this node has verified of its
// peers' logs, and whether both sides of every exchange are on record.
// Run it against two nodes and compare what each saw of a third: the same
// origin must never show two different roots for one tree size, and a
// smaller tree must be a prefix of a larger one (checked by the nodes when
// they witness).
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/cli/commands.h"
#include "client/cli/json.h"
#include "client/cli/node_call.h"
#include "client/paged_reads.h"
#include "client/verify/reconcile.h"

namespace haven::client::cli {
namespace {

// The peer checkpoints that failed this node's check (kept as evidence and
// logged as WITNESS_FAILED entries), before what it verified.
void PrintWitnessFailures(const Invocation& in,
                          const haven::v1::GetWitnessedResponse& response) {
  for (const auto& f : response.failures()) {
    const std::string kind = haven::v1::WitnessFailure::Kind_Name(f.kind());
    if (in.json) {
      JsonObject out;
      out.Add("failure", kind)
          .Add("agency_id", f.agency_id())
          .Add("detail", f.detail())
          .Add("tree_size", static_cast<uint64_t>(f.checkpoint().tree_size()))
          .Add("root_hash", absl::Base64Escape(f.checkpoint().root_hash()))
          .Add("witnessed_size",
               static_cast<uint64_t>(f.witnessed().tree_size()))
          .Add("first_unix", static_cast<int64_t>(f.first_unix()))
          .Add("last_unix", static_cast<int64_t>(f.last_unix()))
          .Add("repeats", static_cast<uint64_t>(f.repeats()))
          .Add("audit_index", static_cast<uint64_t>(f.audit_index()))
          .Add("checkpoint", f.checkpoint().note());
      std::puts(out.str().c_str());
    } else {
      std::printf("%-14s FAILED %s (entry %llu, seen %u time%s, last %s): %s\n",
                  f.agency_id().c_str(), kind.c_str(),
                  static_cast<unsigned long long>(f.audit_index()), f.repeats(),
                  f.repeats() == 1 ? "" : "s",
                  absl::FormatTime("%Y-%m-%d %H:%M:%SZ",
                                   absl::FromUnixSeconds(f.last_unix()),
                                   absl::UTCTimeZone())
                      .c_str(),
                  f.detail().c_str());
    }
  }
}

int Witnessed(const Invocation& in) {
  haven::v1::GetWitnessedRequest request;
  request.set_agency_id(in.args.GetOr("agency", ""));
  auto witnessed = CallNode(in, &NodeClient::GetWitnessed, request);
  if (!witnessed.ok()) return Report(witnessed.status());
  const haven::v1::GetWitnessedResponse& response = *witnessed;
  if (!in.json && response.witnessed().empty()) {
    std::puts("no peer checkpoint witnessed yet");
  }
  PrintWitnessFailures(in, response);
  for (const auto& w : response.witnessed()) {
    if (in.json) {
      JsonObject out;
      out.Add("agency_id", w.agency_id())
          .Add("origin", w.checkpoint().origin())
          .Add("tree_size", static_cast<uint64_t>(w.checkpoint().tree_size()))
          .Add("root_hash", absl::Base64Escape(w.checkpoint().root_hash()))
          .Add("verified_unix", static_cast<int64_t>(w.verified_unix()))
          .Add("checkpoint", w.checkpoint().note());
      std::puts(out.str().c_str());
    } else {
      std::printf("%-14s size %-8llu root %s  verified %s\n",
                  w.agency_id().c_str(),
                  static_cast<unsigned long long>(w.checkpoint().tree_size()),
                  absl::Base64Escape(w.checkpoint().root_hash()).c_str(),
                  absl::FormatTime("%Y-%m-%d %H:%M:%SZ",
                                   absl::FromUnixSeconds(w.verified_unix()),
                                   absl::UTCTimeZone())
                      .c_str());
    }
  }
  return kExitOk;
}

// The entries of one node's log that may be one side of an exchange (the
// pairing itself, client/verify/reconcile.h, picks those naming the peer).
absl::StatusOr<std::vector<haven::v1::IndexedEntry>> ExchangeEntries(
    const NodeClient& node) {
  std::vector<haven::v1::IndexedEntry> out;
  EntryPager pager(node, 0);
  while (true) {
    auto page = pager.NextPage();
    if (!page.ok()) return page.status();
    if (page->empty()) return out;
    for (auto& e : *page) {
      const auto kind = e.entry().kind();
      if (kind == haven::v1::DISCLOSURE || kind == haven::v1::REQUEST_REFUSED ||
          kind == haven::v1::DISCLOSURE_RECEIVED) {
        out.push_back(std::move(e));
      }
    }
  }
}

absl::StatusOr<std::string> AgencyOf(const NodeClient& node) {
  auto status = node.GetStatus(haven::v1::GetStatusRequest());
  if (!status.ok()) return status.status();
  return status->agency_id();
}

int Reconcile(const Invocation& in) {
  auto mine = in.client();
  if (!mine.ok()) return Report(mine.status());
  ConnectionOptions other = (*mine)->options();
  other.address = in.args.GetOr("peer-node", "");
  if (other.address.empty()) {
    std::fprintf(stderr, "havenctl: --peer-node HOST:PORT is required\n");
    return kExitUsage;
  }
  other.ca_file = in.args.GetOr("peer-ca", other.ca_file);
  other.server_name = in.args.GetOr(
      "peer-server-name", other.address.substr(0, other.address.rfind(':')));
  if (auto token_file = in.args.Get("peer-token-file")) {
    auto token = ReadTokenFile(*token_file);
    if (!token.ok()) return Report(token.status());
    other.token = *token;
  }
  auto theirs = NodeClient::Create(other);
  if (!theirs.ok()) return Report(theirs.status());

  auto my_agency = AgencyOf(**mine);
  if (!my_agency.ok()) return Report(my_agency.status());
  auto their_agency = AgencyOf(**theirs);
  if (!their_agency.ok()) return Report(their_agency.status());
  auto my_entries = ExchangeEntries(**mine);
  if (!my_entries.ok()) return Report(my_entries.status());
  auto their_entries = ExchangeEntries(**theirs);
  if (!their_entries.ok()) return Report(their_entries.status());

  ReconcileOptions options;
  if (auto seconds = in.args.Get("tolerance-seconds")) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(*seconds, &n) || n < 0) {
      std::fprintf(stderr,
                   "havenctl: --tolerance-seconds must be a non-negative "
                   "integer\n");
      return kExitUsage;
    }
    options.tolerance = absl::Seconds(n);
  }
  const ReconcileReport report = ReconcileExchanges(
      {*my_agency, &*my_entries}, {*their_agency, &*their_entries}, options);
  size_t unpaired = 0;
  std::vector<std::string> lines;
  for (const ReconcileFinding& f : report.findings) {
    unpaired += f.type == ReconcileFinding::Type::kUnpaired;
    lines.push_back(DescribeFinding(f, *my_agency, *their_agency));
  }
  if (in.json) {
    JsonObject out;
    out.Add("agency", *my_agency)
        .Add("peer", *their_agency)
        .Add("paired", report.paired)
        .Add("unpaired", static_cast<uint64_t>(unpaired))
        .Add("tolerance_seconds",
             static_cast<int64_t>(absl::ToInt64Seconds(options.tolerance)))
        .Add("findings", lines);
    std::puts(out.str().c_str());
  } else {
    std::printf(
        "%s <-> %s: %d exchange(s) on record at both nodes, %zu unpaired, "
        "%zu finding(s) in all\n",
        my_agency->c_str(), their_agency->c_str(), report.paired, unpaired,
        lines.size());
    for (const auto& line : lines) std::printf("  %s\n", line.c_str());
  }
  return report.findings.empty() ? kExitOk : kExitVerifyFailed;
}

}  // namespace

std::vector<Command> WitnessCommands() {
  return {
      {"audit",
       "witnessed",
       "peers' checkpoints this node verified (signature, consistency)",
       "havenctl audit witnessed [--agency ID] [--json]\n"
       "  Compare the output of two nodes for a third agency: one tree\n"
       "  size must never show two roots. Peer checkpoints that failed\n"
       "  the check (BAD_SIGNATURE, LOG_SHRANK, INCONSISTENT: a fork)\n"
       "  come first as FAILED lines (--json: objects with a\n"
       "  \"failure\" field), the newest 8 per peer; each is also a\n"
       "  WITNESS_FAILED entry in this node's log.",
       {"agency"},
       Witnessed},
      {"audit",
       "reconcile",
       "pair this node's exchange entries with a peer node's",
       "havenctl audit reconcile --peer-node HOST:PORT "
       "[--peer-token-file F] [--peer-server-name N] [--peer-ca FILE]\n"
       "  Every disclosure and refusal logged by a holder must have the\n"
       "  requester's receipt with the same request id, and the reverse;\n"
       "  the two entries must have corresponding kinds and agree on\n"
       "  purpose, categories asked, given and withheld, policy version\n"
       "  and consent references, and their times may differ by at most\n"
       "  --tolerance-seconds (default 300). Each unpaired entry, duplicate\n"
       "  request id and disagreeing field is one finding, naming both\n"
       "  entries and values (never record content). Exit 4 if any.\n"
       "  Auditor tokens on both nodes.",
       {"peer-node", "peer-token-file", "peer-server-name", "peer-ca",
        "tolerance-seconds"},
       Reconcile}};
}

}  // namespace haven::client::cli

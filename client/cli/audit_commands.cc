// havenctl audit …: read the node's audit log (auditor role): its signed
// checkpoint and keys, entries as they are appended, and break-glass
// decisions. Proofs, export and whole-log verification are in
// audit_proof_commands.cc and audit_verify_commands.cc.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "client/cli/commands.h"
#include "client/cli/decision_output.h"
#include "client/cli/entry_text.h"
#include "client/cli/json.h"
#include "client/cli/node_call.h"
#include "client/cli/proof_json.h"
#include "client/indexed_entry.h"
#include "client/paged_reads.h"
#include "haven/base/limits.h"

namespace haven::client::cli {
namespace {

int Checkpoint(const Invocation& in) {
  // --cosigned K: the newest checkpoint with K cosignatures, lines included.
  haven::v1::GetCheckpointRequest request;
  if (in.args.Has("cosigned")) {
    auto min = UintFlag(in.args, "cosigned", std::nullopt);
    if (!min.ok()) return UsageError(min.status());
    request.set_cosigned(true);
    request.set_min_cosignatures(static_cast<uint32_t>(
        std::min<uint64_t>(*min, limits::kMaxCosignaturesPerCheckpoint + 1)));
  }
  auto response = CallNode(in, &NodeClient::GetCheckpoint, request);
  if (!response.ok()) return Report(response.status());
  const haven::v1::Checkpoint& cp = response->checkpoint();
  if (in.json) {
    std::printf("%s\n",
                JsonObject()
                    .Add("checkpoint", cp.note())
                    .Add("origin", cp.origin())
                    .Add("tree_size", static_cast<uint64_t>(cp.tree_size()))
                    .Add("root_hash", B64(cp.root_hash()))
                    .str()
                    .c_str());
  } else {
    std::fwrite(cp.note().data(), 1, cp.note().size(), stdout);
  }
  return kExitOk;
}

int Key(const Invocation& in) {
  const std::string type = in.args.GetOr("type", "note");
  if (type != "note" && type != "witness") {
    return UsageError(
        absl::InvalidArgumentError("--type must be note or witness"));
  }
  auto response = CallNode(in, &NodeClient::GetCheckpoint,
                           haven::v1::GetCheckpointRequest());
  if (!response.ok()) return Report(response.status());
  if (in.json) {
    std::printf("%s\n", JsonObject()
                            .Add("verifier_key", response->verifier_key())
                            .Add("witness_key", response->witness_key())
                            .str()
                            .c_str());
  } else {
    std::printf("%s\n", type == "witness" ? response->witness_key().c_str()
                                          : response->verifier_key().c_str());
  }
  return kExitOk;
}

// New entries from `start` until interrupted: a stream with no deadline,
// same credentials.
int Follow(const Invocation& in, const NodeClient& client, uint64_t start) {
  haven::v1::FollowRequest request;
  request.set_start(start);
  auto stream = client.Follow(request);
  haven::v1::FollowResponse response;
  while (stream->Read(&response)) {
    CompleteEntry(response.mutable_entry());
    PrintEntry(in, response.entry());
  }
  return Report(stream->Finish());
}

int Tail(const Invocation& in) {
  auto from = UintFlag(in.args, "from", 0);
  if (!from.ok()) return UsageError(from.status());
  auto client = in.client();
  if (!client.ok()) return Report(client.status());
  const bool follow = in.args.Has("follow");
  EntryPager pager(**client, *from);
  while (true) {
    auto page = pager.NextPage();
    if (!page.ok()) {
      // Starting past the end is fine when following.
      if (page.status().code() == absl::StatusCode::kOutOfRange && follow) {
        break;
      }
      return Report(page.status());
    }
    if (page->empty()) break;
    for (const auto& entry : *page) PrintEntry(in, entry);
  }
  if (follow) return Follow(in, **client, pager.next_index());
  return kExitOk;
}

int BreakGlass(const Invocation& in) {
  haven::v1::FindEntriesRequest request;
  request.set_break_glass(true);
  const std::string since = in.args.GetOr("since", "");
  if (!since.empty()) {
    int64_t from = 0;
    if (!absl::SimpleAtoi(since, &from) || from < 0) {
      return UsageError("--since takes Unix seconds");
    }
    request.mutable_time()->set_from_unix(from);
  }
  auto called = CallNode(in, &NodeClient::FindEntries, request);
  if (!called.ok()) return Report(called.status());
  const haven::v1::FindEntriesResponse& response = *called;
  return PrintDecisions(in, response.entries(), "no break-glass decisions");
}

}  // namespace

std::vector<Command> AuditCommands() {
  std::vector<Command> commands = {
      {"audit",
       "checkpoint",
       "print the log's latest signed checkpoint",
       "havenctl audit checkpoint [--cosigned K] [--json]\n"
       "  Prints the C2SP signed note verbatim. With --json: {\"checkpoint\", "
       "\"origin\", \"tree_size\", \"root_hash\" (base64)}. With --cosigned\n"
       "  K: the newest checkpoint peers cosigned at least K times (K >= 1),\n"
       "  with their C2SP tlog-cosignature lines after the node's signature.\n"
       "  Auditor role.",
       {"cosigned"},
       Checkpoint},
      {"audit",
       "key",
       "print the node's signed-note verifier key",
       "havenctl audit key [--type note|witness] [--json]\n"
       "  note (default): the checkpoint verifier key,\n"
       "  name+keyid+base64(0x01 || Ed25519 public key). witness: the key the\n"
       "  node cosigns peers' checkpoints with (C2SP tlog-cosignature),\n"
       "  name+keyid+base64(0x04 || the same public key), for --witness of\n"
       "  `audit verify`. --json prints both. Auditor role.",
       {"type"},
       Key},
      {"audit",
       "tail",
       "print audit entries, optionally following new ones",
       "havenctl audit tail [--from N] [--follow] [--json]\n"
       "  One line per entry: index, time, kind, agency, principal, purpose,\n"
       "  categories given and withheld. --json prints one JSON object per\n"
       "  entry. --follow keeps streaming new entries until interrupted.\n"
       "  Auditor role.",
       {"from", "follow"},
       Tail},
  };
  for (auto group : {AuditProofCommands, AuditVerifyCommands}) {
    for (Command& command : group()) commands.push_back(std::move(command));
  }
  commands.push_back(
      {"audit",
       "break-glass",
       "list break-glass decisions for review",
       "havenctl audit break-glass [--since UNIX_SECONDS] [--json]\n"
       "  Every decision an emergency rule made (at most 1000): when, for\n"
       "  which agency, what was given and the written justification, for\n"
       "  the review the task force's protocol requires. Auditor role.",
       {"since"},
       BreakGlass});
  for (Command& command : AuditExportCommands()) {
    commands.push_back(std::move(command));
  }
  return commands;
}

}  // namespace haven::client::cli

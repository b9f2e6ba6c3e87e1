// havenctl audit bundle and check-bundle: one audit entry as an offline
// proof bundle (client/verify/proof_bundle.md), and its check with no node.
// The format, its parsing and its verification live in
// client/verify/proof_bundle.h; this file only fetches, reads and prints.
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/cli/commands.h"
#include "client/cli/decision_output.h"
#include "client/cli/json.h"
#include "client/cli/local_file.h"
#include "client/cli/node_call.h"
#include "client/verify/proof_bundle.h"
#include "client/verify/signed_note.h"

namespace haven::client::cli {
namespace {

int Usage(absl::string_view message) {
  return UsageError(std::string(message));
}

int Failed(absl::string_view message) {
  return ReportVerifyFailure("", absl::DataLossError(message));
}

int Bundle(const Invocation& in) {
  std::optional<std::string> flag = in.args.Get("index");
  uint64_t index = 0;
  if (!flag.has_value() || !absl::SimpleAtoi(*flag, &index)) {
    return Usage("--index N (a non-negative integer) is required");
  }
  haven::v1::GetProofBundleRequest request;
  request.set_leaf_index(index);
  auto response = CallNode(in, &NodeClient::GetProofBundle, request);
  if (!response.ok()) return Report(response.status());
  const haven::v1::ProofBundle& served = response->bundle();
  if (served.entry().index() != index || served.proof().leaf_index() != index ||
      served.proof().tree_size() != served.checkpoint().tree_size()) {
    return Failed("the node's bundle is for another entry or tree size");
  }
  ProofBundle bundle;
  bundle.leaf_index = index;
  bundle.tree_size = served.checkpoint().tree_size();
  bundle.leaf = served.entry().leaf();
  bundle.inclusion_proof.assign(served.proof().hashes().begin(),
                                served.proof().hashes().end());
  bundle.checkpoint_note = served.checkpoint().note();
  for (const std::string& hash : bundle.inclusion_proof) {
    if (hash.size() != 32) return Failed("the node sent a malformed proof");
  }
  const std::string text = FormatProofBundle(bundle);
  // Nothing is written that would not check: the bundle is verified with
  // the key the node serves (the reader checks it with the key it trusts).
  auto key = ParseVerifierKey(served.verifier_key());
  if (!key.ok()) return Failed(key.status().message());
  auto verified = VerifyProofBundle(text, *key);
  if (!verified.ok()) return Failed(verified.status().message());
  std::fwrite(text.data(), 1, text.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitUsage;
}

// The whole file, refused past the bundle limit before it is read.
absl::StatusOr<std::string> ReadBundleFile(const std::string& path) {
  return ReadLocalFile(path, kMaxProofBundleBytes, "a proof bundle");
}

int CheckBundle(const Invocation& in) {
  const auto& words = in.args.positional();
  if (words.size() != 3 || words[2].empty()) {
    return Usage("usage: havenctl audit check-bundle FILE --key VKEY");
  }
  const std::string vkey = in.args.GetOr("key", "");
  if (vkey.empty()) {
    return Usage(
        "--key VKEY is required: the node's verifier key, obtained and "
        "trusted beforehand (havenctl audit key)");
  }
  auto key = ParseVerifierKey(vkey);
  if (!key.ok()) {
    return Usage(absl::StrCat("--key: ", key.status().message()));
  }
  auto text = ReadBundleFile(words[2]);
  if (!text.ok()) {
    // Too large is a property of the file: it is not a bundle that checks.
    if (text.status().code() == absl::StatusCode::kInvalidArgument) {
      return Failed(text.status().message());
    }
    return Usage(text.status().message());
  }
  auto verified = VerifyProofBundle(*text, *key);
  if (!verified.ok()) {
    return Failed(absl::StrCat(words[2], ": ", verified.status().message()));
  }
  const haven::v1::AuditEntry& e = verified->entry;
  const std::string time = absl::FormatTime(
      "%Y-%m-%dT%H:%M:%SZ", absl::FromUnixNanos(e.time_unix_nanos()),
      absl::UTCTimeZone());
  const std::string kind = haven::v1::EntryKind_Name(e.kind());
  if (in.json) {
    std::puts(JsonObject()
                  .Add("verified", true)
                  .Add("leaf_index", verified->leaf_index)
                  .Add("kind", kind)
                  .Add("time", time)
                  .Add("agency_id", e.agency_id())
                  .Add("origin", verified->checkpoint.origin)
                  .Add("tree_size", verified->checkpoint.tree_size)
                  .Add("unverified_signers", verified->other_signers)
                  .str()
                  .c_str());
    return kExitOk;
  }
  std::printf(
      "verified: entry %llu (%s, %s%s%s) is in log %s at size %llu, "
      "checkpoint signed by %s\n",
      static_cast<unsigned long long>(verified->leaf_index), kind.c_str(),
      time.c_str(), e.agency_id().empty() ? "" : ", agency ",
      e.agency_id().c_str(), verified->checkpoint.origin.c_str(),
      static_cast<unsigned long long>(verified->checkpoint.tree_size),
      key->name.c_str());
  if (!verified->other_signers.empty()) {
    std::printf("not checked: signatures by %s (no key given for them)\n",
                absl::StrJoin(verified->other_signers, ", ").c_str());
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> BundleCommands() {
  return {
      {"audit",
       "bundle",
       "write one entry as an offline proof bundle",
       "havenctl audit bundle --index N > entry.json\n"
       "  Writes the entry's leaf bytes, index, the tree size, its inclusion\n"
       "  proof and the node's signed checkpoint as one line of JSON\n"
       "  (format: client/verify/proof_bundle.md), checked first with the\n"
       "  key the node serves. Check it anywhere with `audit check-bundle`.\n"
       "  Auditor role.",
       {"index"},
       Bundle},
      {"audit",
       "check-bundle",
       "verify an offline proof bundle with no node",
       "havenctl audit check-bundle FILE --key VKEY [--json]\n"
       "  Checks the checkpoint's signature by VKEY (the node's verifier\n"
       "  key, from `audit key`, obtained over a channel you trust), the\n"
       "  entry's RFC 6962 leaf hash and its inclusion proof against the\n"
       "  signed root, and that the file is exactly a canonical bundle.\n"
       "  Prints the index, kind and time of the entry and the checkpoint's\n"
       "  origin and size. Exit 4, with the reason, if anything fails.\n"
       "  Needs no node and no token.",
       {"key"},
       CheckBundle},
  };
}

}  // namespace haven::client::cli

// havenctl audit proof, consistency, export: proofs from the node's log,
// each checked here against the signed checkpoint before it is reported
// as verified, and the whole log written out for an independent verifier.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/audit_fetch.h"
#include "client/cli/commands.h"
#include "client/cli/decision_output.h"
#include "client/cli/json.h"
#include "client/cli/proof_json.h"
#include "client/paged_reads.h"
#include "client/verify/merkle.h"

namespace haven::client::cli {
namespace {

// The tree a proof command proves against: its size (--size_flag, default
// the checkpoint's) and its root, proven against the node's verified
// checkpoint. `check_size` rejects a size the command cannot use (a usage
// error). Returns kExitOk or the exit code already reported.
int ProvenTree(const Invocation& in, const NodeClient& client,
               const std::string& size_flag,
               const std::function<absl::Status(uint64_t)>& check_size,
               uint64_t* size, std::string* root) {
  absl::Status verify_error;
  auto checkpoint = FetchVerifiedCheckpoint(client, &verify_error);
  if (!verify_error.ok()) {
    return ReportVerifyFailure("checkpoint", verify_error);
  }
  if (!checkpoint.ok()) return Report(checkpoint.status());
  auto flag = UintFlag(in.args, size_flag, checkpoint->body.tree_size);
  if (!flag.ok()) return UsageError(flag.status());
  if (absl::Status s = check_size(*flag); !s.ok()) return UsageError(s);
  auto proven = ProvenRootAt(client, checkpoint->body, *flag, &verify_error);
  if (!verify_error.ok()) {
    return ReportVerifyFailure(
        absl::StrCat("root of size ", *flag, " vs the checkpoint"),
        verify_error);
  }
  if (!proven.ok()) return Report(proven.status());
  *size = *flag;
  *root = *std::move(proven);
  return kExitOk;
}

int Proof(const Invocation& in) {
  auto index = UintFlag(in.args, "index", std::nullopt);
  if (!index.ok()) return UsageError(index.status());
  auto client = in.client();
  if (!client.ok()) return Report(client.status());
  uint64_t size = 0;
  std::string root;
  auto index_fits = [&](uint64_t proposed) {
    return *index < proposed ? absl::OkStatus()
                             : absl::InvalidArgumentError(absl::StrCat(
                                   "--index ", *index,
                                   " must be below the tree size ", proposed));
  };
  if (int rc = ProvenTree(in, **client, "size", index_fits, &size, &root)) {
    return rc;
  }
  auto proof = FetchInclusionProof(**client, *index, size);
  if (!proof.ok()) return Report(proof.status());
  auto entries = FetchEntries(**client, *index, *index + 1);
  if (!entries.ok()) return Report(entries.status());

  std::printf("%s\n", InclusionJson(*index, size, proof->leaf_hash(),
                                    B64All(proof->hashes()))
                          .c_str());
  if (HashLeaf((*entries)[0].leaf()) != proof->leaf_hash()) {
    return ReportVerifyFailure(
        absl::StrCat("leaf ", *index),
        absl::DataLossError("the entry does not hash to the proven leaf hash"));
  }
  absl::Status s = VerifyInclusion(*index, size, proof->leaf_hash(),
                                   ToVector(proof->hashes()), root);
  if (!s.ok()) {
    return ReportVerifyFailure(absl::StrCat("inclusion of leaf ", *index), s);
  }
  return kExitOk;
}

int Consistency(const Invocation& in) {
  auto from = UintFlag(in.args, "from", std::nullopt);
  if (!from.ok()) return UsageError(from.status());
  // RFC 6962 / RFC 9162 define no consistency proof from the empty tree
  // (every tree extends it), and standard verifiers such as Go's tlog
  // reject one; asking is a usage error, not a proof to print.
  if (*from == 0) {
    return UsageError(absl::InvalidArgumentError(
        "--from must be at least 1: RFC 6962 defines no consistency proof "
        "from the empty tree (every log extends it)"));
  }
  auto client = in.client();
  if (!client.ok()) return Report(client.status());
  uint64_t to = 0;
  std::string root;
  auto from_fits = [&](uint64_t proposed) {
    return *from <= proposed
               ? absl::OkStatus()
               : absl::InvalidArgumentError(absl::StrCat(
                     "--from ", *from, " must not exceed --to ", proposed));
  };
  if (int rc = ProvenTree(in, **client, "to", from_fits, &to, &root)) {
    return rc;
  }
  auto proof = FetchConsistencyProof(**client, *from, to);
  if (!proof.ok()) return Report(proof.status());
  std::printf("%s\n", ConsistencyJson(*proof).c_str());
  if (proof->old_size() != *from || proof->new_size() != to) {
    return ReportVerifyFailure(
        "consistency", absl::DataLossError("the node proved other sizes"));
  }
  absl::Status s = VerifyConsistency(*from, to, ToVector(proof->hashes()),
                                     proof->old_root(), root);
  if (!s.ok()) {
    return ReportVerifyFailure(absl::StrCat("consistency ", *from, " -> ", to),
                               s);
  }
  return kExitOk;
}

int Export(const Invocation& in) {
  std::string out_path = in.args.GetOr("out", "");
  if (out_path.empty()) {
    return UsageError(absl::InvalidArgumentError("--out is required"));
  }
  auto client = in.client();
  if (!client.ok()) return Report(client.status());
  auto response = FetchCheckpoint(**client);
  if (!response.ok()) return Report(response.status());
  const haven::v1::Checkpoint& cp = response->checkpoint();
  uint64_t size = cp.tree_size();
  auto entries = FetchEntries(**client, 0, size);
  if (!entries.ok()) return Report(entries.status());

  std::vector<std::string> leaves;
  leaves.reserve(entries->size());
  for (const auto& entry : *entries) leaves.push_back(B64(entry.leaf()));

  // A few inclusion proofs (first, middle, last) and consistency proofs from
  // smaller sizes, all at the checkpoint's size.
  std::vector<uint64_t> indices;
  if (size > 0) indices = {0, size / 2, size - 1};
  std::vector<std::string> inclusion;
  for (size_t i = 0; i < indices.size(); ++i) {
    if (i > 0 && indices[i] == indices[i - 1]) continue;
    auto proof = FetchInclusionProof(**client, indices[i], size);
    if (!proof.ok()) return Report(proof.status());
    inclusion.push_back(InclusionJson(proof->leaf_index(), proof->tree_size(),
                                      proof->leaf_hash(),
                                      B64All(proof->hashes())));
  }
  std::vector<std::string> consistency;
  for (uint64_t old_size : {uint64_t{1}, size / 2}) {
    if (old_size == 0 || old_size >= size) continue;
    if (!consistency.empty() && old_size == 1) continue;
    auto proof = FetchConsistencyProof(**client, old_size, size);
    if (!proof.ok()) return Report(proof.status());
    consistency.push_back(ConsistencyJson(*proof));
  }

  std::string doc =
      JsonObject()
          .Add("origin", cp.origin())
          .Add("checkpoint", cp.note())
          .Add("verifier_key", response->verifier_key())
          .Add("leaves", leaves)
          .AddRaw("inclusion_proofs", "[" + absl::StrJoin(inclusion, ",") + "]")
          .AddRaw("consistency_proofs",
                  "[" + absl::StrJoin(consistency, ",") + "]")
          .str();
  std::ofstream file(out_path, std::ios::binary | std::ios::trunc);
  file << doc << "\n";
  file.close();
  if (!file) {
    return UsageError(
        absl::FailedPreconditionError(absl::StrCat("cannot write ", out_path)));
  }
  std::printf("exported %llu entries of %s to %s\n",
              static_cast<unsigned long long>(size), cp.origin().c_str(),
              out_path.c_str());
  return kExitOk;
}

}  // namespace

std::vector<Command> AuditProofCommands() {
  return {
      {"audit",
       "proof",
       "inclusion proof for one entry, checked locally",
       "havenctl audit proof --index N [--size M]\n"
       "  Prints {\"leaf_index\",\"tree_size\",\"leaf_hash\",\"hashes\"} "
       "(base64) and\n"
       "  checks it against the signed checkpoint (for --size M below the\n"
       "  checkpoint, through a consistency proof). Exit 4 if it does not "
       "verify.",
       {"index", "size"},
       Proof},
      {"audit",
       "consistency",
       "consistency proof between sizes, checked locally",
       "havenctl audit consistency --from N [--to M]   (N >= 1)\n"
       "  Prints {\"old_size\",\"old_root\",\"new_size\",\"hashes\"} (base64) "
       "and checks\n"
       "  it against the signed checkpoint's root. Exit 4 if it does not "
       "verify.",
       {"from", "to"},
       Consistency},
  };
}

std::vector<Command> AuditExportCommands() {
  return {
      {"audit",
       "export",
       "write the log as JSON for an independent verifier",
       "havenctl audit export --out FILE\n"
       "  Writes {origin, checkpoint, verifier_key, leaves, inclusion_proofs,\n"
       "  consistency_proofs} as tests/e2e/python/verify_log.py reads it.",
       {"out"},
       Export},
  };
}

}  // namespace haven::client::cli

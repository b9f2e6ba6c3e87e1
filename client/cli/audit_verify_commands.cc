// havenctl audit verify: replay and verify the node's whole log, against
// the checkpoint its key signed and the state trusted from the last run
// (trusted_state.h), and optionally against witnesses' cosignatures.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/cli/audit_fetch.h"
#include "client/cli/commands.h"
#include "client/cli/decision_output.h"
#include "client/cli/json.h"
#include "client/cli/proof_json.h"
#include "client/cli/trusted_state.h"
#include "client/paged_reads.h"
#include "client/verify/cosignature.h"
#include "client/verify/key_switch.h"
#include "client/verify/log_replay.h"
#include "client/verify/merkle.h"
#include "client/verify/signed_note.h"
#include "haven/base/limits.h"

namespace haven::client::cli {
namespace {

// --witness VKEY (repeatable) and --min K of `audit verify`: the witness
// keys and how many must have cosigned (default: all given).
struct WitnessQuorum {
  std::vector<NoteVerifierKey> keys;
  uint64_t min = 0;
};

absl::StatusOr<WitnessQuorum> ParseWitnessQuorum(const Args& args) {
  WitnessQuorum quorum;
  for (const std::string& vkey : args.GetAll("witness")) {
    auto key = ParseCosignatureKey(vkey);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--witness: ", key.status().message()));
    }
    quorum.keys.push_back(*std::move(key));
  }
  auto min = UintFlag(args, "min", quorum.keys.size());
  if (!min.ok()) return min.status();
  quorum.min = *min;
  // More than the keys given can never be met: that is a failed check
  // (exit 4), like too few valid cosignatures, not a usage error.
  if (args.Has("min") && quorum.keys.empty()) {
    return absl::InvalidArgumentError("--min needs --witness keys");
  }
  if (!quorum.keys.empty() && quorum.min == 0) {
    return absl::InvalidArgumentError("--min must be at least 1");
  }
  if (quorum.min >
      static_cast<uint64_t>(limits::kMaxCosignaturesPerCheckpoint)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--min must be at most ", limits::kMaxCosignaturesPerCheckpoint));
  }
  return quorum;
}

// Checks the node's newest checkpoint with `quorum.min` cosignatures: its
// own signature, enough valid cosignatures by the named witnesses over
// exactly that checkpoint, and that the replayed `leaves` (already checked
// against the latest checkpoint) start with the tree it names. Returns the
// exit code.
int VerifyCosigned(const NodeClient& client, const WitnessQuorum& quorum,
                   const LogSigningKeys& keys, const std::string& vkey,
                   const std::string& origin,
                   const std::vector<std::string>& leaves, uint64_t* size) {
  haven::v1::GetCheckpointRequest request;
  request.set_cosigned(true);
  request.set_min_cosignatures(static_cast<uint32_t>(quorum.min));
  auto cosigned = client.GetCheckpoint(request);
  const absl::Status& s = cosigned.status();
  if (s.code() == absl::StatusCode::kNotFound) {
    return ReportVerifyFailure(
        "witnesses",
        absl::FailedPreconditionError(absl::StrCat(
            "the node has no checkpoint with ", quorum.min, " cosignatures")));
  }
  if (!s.ok()) return Report(s);
  const haven::v1::GetCheckpointResponse& response = *cosigned;
  const std::string& note = response.checkpoint().note();
  // Signed by the key the log had at that size (it may predate a
  // rotation).
  auto key =
      ParseVerifierKey(keys.KeyFor(response.checkpoint().tree_size(), vkey));
  if (!key.ok()) return ReportVerifyFailure("verifier key", key.status());
  auto body = VerifyCheckpoint(note, *key, origin);
  if (!body.ok())
    return ReportVerifyFailure("cosigned checkpoint", body.status());
  if (body->tree_size != response.checkpoint().tree_size()) {
    return ReportVerifyFailure(
        "cosigned checkpoint",
        absl::DataLossError("its signed size is not the size it claims"));
  }
  auto count = CountCosignatures(note, quorum.keys);
  if (!count.ok()) return ReportVerifyFailure("cosignatures", count.status());
  if (static_cast<uint64_t>(*count) < quorum.min) {
    return ReportVerifyFailure(
        "witnesses",
        absl::FailedPreconditionError(absl::StrCat(
            "the checkpoint of ", body->tree_size, " entries has ", *count,
            " valid cosignatures by the given witnesses, fewer "
            "than ",
            quorum.min)));
  }
  if (body->tree_size > leaves.size()) {
    return ReportVerifyFailure(
        "cosigned checkpoint",
        absl::DataLossError("it is larger than the log replayed"));
  }
  std::vector<std::string> hashes;
  hashes.reserve(body->tree_size);
  for (uint64_t i = 0; i < body->tree_size; ++i) {
    hashes.push_back(HashLeaf(leaves[i]));
  }
  if (RootFromLeafHashes(hashes) != body->root_hash) {
    return ReportVerifyFailure(
        "cosigned checkpoint",
        absl::DataLossError(
            absl::StrCat("the log replayed is not consistent with the cosigned "
                         "checkpoint of ",
                         body->tree_size, " entries")));
  }
  *size = body->tree_size;
  return kExitOk;
}

// Position of `vkey` among `chain` (oldest first), or -1.
int PositionIn(const std::vector<std::string>& chain, const std::string& vkey) {
  for (size_t i = 0; i < chain.size(); ++i) {
    if (chain[i] == vkey) return static_cast<int>(i);
  }
  return -1;
}

// Whether trusting `anchor` lets the auditor trust `signer`: the same key,
// or (after rotations) one the anchor handed over to, directly or through
// later keys. Never a key before the anchor: only the log vouches for
// those, and the anchor has not signed that log yet.
bool Reaches(const std::vector<std::string>& chain, const std::string& anchor,
             const std::string& signer) {
  if (anchor == signer) return true;
  const int a = PositionIn(chain, anchor);
  const int s = PositionIn(chain, signer);
  return a >= 0 && s >= 0 && a <= s;
}

int Verify(const Invocation& in) {
  auto quorum = ParseWitnessQuorum(in.args);
  if (!quorum.ok()) return UsageError(quorum.status());
  // --key: the node's keys as the manifest publishes them (verifier_key and
  // next_verifier_key); without it the key is trusted on first use and
  // pinned in the state file.
  const std::vector<std::string> anchors = in.args.GetAll("key");
  for (const std::string& anchor : anchors) {
    if (auto key = ParseVerifierKey(anchor); !key.ok()) {
      return UsageError(absl::InvalidArgumentError(
          absl::StrCat("--key: ", key.status().message())));
    }
  }
  auto client = in.client();
  if (!client.ok()) return Report(client.status());
  auto response = FetchCheckpoint(**client);
  if (!response.ok()) return Report(response.status());
  const std::string& origin = response->checkpoint().origin();
  const std::string& note = response->checkpoint().note();
  const std::string& vkey = response->verifier_key();

  std::string state_path = in.args.GetOr("state", "");
  if (state_path.empty()) {
    auto path = DefaultStatePath(origin);
    if (!path.ok()) return UsageError(path.status());
    state_path = *path;
  }
  auto trusted = ReadState(state_path);
  if (!trusted.ok()) return UsageError(trusted.status());
  if (trusted->has_value()) {
    const TrustedState& state = **trusted;
    if (state.origin != origin) {
      return ReportVerifyFailure(
          "origin", absl::FailedPreconditionError(absl::StrCat(
                        "the node's log is '", origin, "' but ", state_path,
                        " trusts '", state.origin, "'")));
    }
  }

  // The leaf count comes from the signed checkpoint, checked below; fetch
  // exactly that many leaves.
  uint64_t size = response->checkpoint().tree_size();
  auto entries = FetchEntries(**client, 0, size);
  if (!entries.ok()) {
    if (entries.status().code() == absl::StatusCode::kDataLoss) {
      return ReportVerifyFailure("fetching entries", entries.status());
    }
    return Report(entries.status());
  }

  ReplayInput input;
  input.leaves.reserve(entries->size());
  for (auto& entry : *entries)
    input.leaves.push_back(std::move(*entry.mutable_leaf()));

  // Which key signed which checkpoint: the log's own record of its
  // signing-key rotations, each signed by the key it replaced. Checked
  // again by the replay below, which proves these leaves are the log the
  // latest checkpoint signs.
  auto keys = LogSigningKeys::FromLeaves(input.leaves, origin);
  if (!keys.ok()) {
    return ReportVerifyFailure(absl::StrCat("log ", origin), keys.status());
  }
  const std::vector<std::string> chain = keys->Keys();
  const std::string signer = keys->KeyFor(size, vkey);
  if (!anchors.empty()) {
    bool trusted_signer = false;
    for (const std::string& anchor : anchors) {
      trusted_signer |= Reaches(chain, anchor, signer);
    }
    if (!trusted_signer) {
      return ReportVerifyFailure(
          "verifier key",
          absl::DataLossError(
              absl::StrCat("the node's checkpoint of ", size,
                           " entries is signed by ", signer,
                           ", which is not a --key given nor a key one of them "
                           "handed over to")));
    }
  }
  if (trusted->has_value() &&
      !Reaches(chain, (*trusted)->verifier_key, signer)) {
    return ReportVerifyFailure(
        "verifier key",
        absl::DataLossError(absl::StrCat(
            "the node's verifier key changed from the pinned key ",
            (*trusted)->verifier_key, " to ", signer,
            " without a key switch in its log signed by the pinned key")));
  }

  input.checkpoint_note = note;
  input.verifier_key = signer;
  input.origin = origin;
  uint64_t trusted_size = 0;
  if (trusted->has_value()) {
    const TrustedState& state = **trusted;
    input.trusted_checkpoint_note = state.checkpoint_note;
    input.trusted_verifier_key = state.verifier_key;
    auto key = ParseVerifierKey(state.verifier_key);
    if (key.ok()) {
      auto body = VerifyCheckpoint(state.checkpoint_note, *key, origin);
      if (body.ok()) trusted_size = body->tree_size;
    }
    // The log must agree that the pinned key signed at that size.
    if (keys->KeyFor(trusted_size, signer) != state.verifier_key) {
      return ReportVerifyFailure(
          "verifier key",
          absl::DataLossError(
              absl::StrCat("the trusted checkpoint of ", trusted_size,
                           " entries is signed by ", state.verifier_key,
                           " but the log's key switches say ",
                           keys->KeyFor(trusted_size, signer), " signed it")));
    }
  }
  input.inclusion_proof = [&client](uint64_t index, uint64_t tree_size)
      -> absl::StatusOr<std::vector<std::string>> {
    auto proof = FetchInclusionProof(**client, index, tree_size);
    if (!proof.ok()) return proof.status();
    return ToVector(proof->hashes());
  };

  auto verified = VerifyLogReplay(input);
  if (!verified.ok()) {
    return ReportVerifyFailure(absl::StrCat("log ", origin), verified.status());
  }
  uint64_t cosigned_size = 0;
  if (!quorum->keys.empty()) {
    if (int code = VerifyCosigned(**client, *quorum, *keys, signer, origin,
                                  input.leaves, &cosigned_size);
        code != kExitOk) {
      return code;
    }
  }

  TrustedState next{origin, signer, note};
  if (absl::Status s = WriteState(state_path, next, verified->tree_size);
      !s.ok()) {
    return UsageError(s);
  }
  if (!in.json && !quorum->keys.empty()) {
    std::printf(
        "log %s: checkpoint of %llu entries cosigned by at least %llu of "
        "%zu witnesses\n",
        origin.c_str(), static_cast<unsigned long long>(cosigned_size),
        static_cast<unsigned long long>(quorum->min), quorum->keys.size());
  }
  if (in.json) {
    std::printf("%s\n", JsonObject()
                            .Add("origin", origin)
                            .Add("tree_size",
                                 static_cast<uint64_t>(verified->tree_size))
                            .Add("root_hash", B64(verified->root_hash))
                            .Add("trusted_size", trusted_size)
                            .Add("first_verification", !trusted->has_value())
                            .Add("cosigned_size", cosigned_size)
                            .Add("state_file", state_path)
                            .str()
                            .c_str());
  } else if (trusted->has_value()) {
    std::printf(
        "log %s: %llu entries verified; consistent with trusted size %llu\n",
        origin.c_str(), static_cast<unsigned long long>(verified->tree_size),
        static_cast<unsigned long long>(trusted_size));
  } else {
    std::printf(
        "log %s: %llu entries verified; first verification, "
        "checkpoint and key now trusted in %s\n",
        origin.c_str(), static_cast<unsigned long long>(verified->tree_size),
        state_path.c_str());
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> AuditVerifyCommands() {
  return {
      {"audit",
       "verify",
       "replay and verify the whole log",
       "havenctl audit verify [--key VKEY]... [--state FILE] [--witness "
       "VKEY]...\n"
       "                      [--min K]\n"
       "  Fetches the checkpoint and every entry, recomputes every hash, "
       "checks\n"
       "  the checkpoint signature (against the node's key and the key pinned\n"
       "  in the state file) and consistency with the last checkpoint trusted\n"
       "  there. On success the new checkpoint becomes trusted. Default state\n"
       "  file: $HOME/.haven/audit-<origin>.state. Exit 4 on any failure,\n"
       "  naming the first bad entry or the broken consistency.\n"
       "  --key (repeatable; the node's verifier_key and next_verifier_key\n"
       "  from the manifest) requires the checkpoint to be signed by one of\n"
       "  them or by a key they handed over to; without it the node's key is\n"
       "  trusted on first use. After a signing-key rotation the log's\n"
       "  SIGNING_KEY_ROTATED entries (each signed by the key it replaced)\n"
       "  say which key signed which checkpoint, so checkpoints from before\n"
       "  and after the switch both verify.\n"
       "  --witness (repeatable; a key from `havenctl audit key --type\n"
       "  witness` on that peer's node) also fetches the node's newest\n"
       "  checkpoint with K cosignatures and checks that at least K (--min,\n"
       "  default all given) are valid by those keys over exactly that\n"
       "  checkpoint, and that the log replayed extends it; exit 4 if not.",
       {"key", "state", "witness", "min"},
       Verify},
  };
}

}  // namespace haven::client::cli

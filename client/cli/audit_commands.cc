// havenctl audit …: read, prove and verify the node's audit log (auditor
// role), and the subject access report (advocate role).
//
// Everything the node sends is checked here with haven_client_verify before
// it is reported as verified: checkpoint signatures against the node's
// verifier key (and against the key pinned in the local state file),
// inclusion and consistency proofs against the signed root, and, for
// `verify`, every leaf hash and the root of the whole log.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "client/cli/commands.h"
#include "client/cli/entry_text.h"
#include "client/cli/indexed_entry.h"
#include "client/cli/json.h"
#include "client/cli/rpc.h"
#include "client/verify/cosignature.h"
#include "client/verify/log_replay.h"
#include "client/verify/merkle.h"
#include "client/verify/signed_note.h"
#include "haven/base/limits.h"
#include "haven/v1/audit.grpc.pb.h"

namespace haven::client::cli {
namespace {

using haven::v1::AuditService;

constexpr uint64_t kPageSize = 1000;

std::string B64(absl::string_view bytes) { return absl::Base64Escape(bytes); }

std::vector<std::string> B64All(
    const google::protobuf::RepeatedPtrField<std::string>& hashes) {
  std::vector<std::string> out;
  out.reserve(hashes.size());
  for (const std::string& h : hashes) out.push_back(B64(h));
  return out;
}

std::vector<std::string> ToVector(
    const google::protobuf::RepeatedPtrField<std::string>& hashes) {
  return std::vector<std::string>(hashes.begin(), hashes.end());
}

// A verification failure: reported with exit code 4 whatever its code.
int ReportVerifyFailure(absl::string_view what, const absl::Status& status) {
  std::fprintf(stderr, "havenctl: verification failed: %s%s%s\n",
               std::string(what).c_str(), what.empty() ? "" : ": ",
               std::string(status.message()).c_str());
  return kExitVerifyFailed;
}

absl::StatusOr<uint64_t> UintFlag(const Invocation& in, const std::string& flag,
                                  std::optional<uint64_t> fallback) {
  std::optional<std::string> value = in.args.Get(flag);
  if (!value.has_value()) {
    if (fallback.has_value()) return *fallback;
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " is required"));
  }
  uint64_t n = 0;
  if (!absl::SimpleAtoi(*value, &n)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " must be a non-negative integer"));
  }
  return n;
}

int UsageError(const absl::Status& status) {
  std::fprintf(stderr, "havenctl: %s\n", std::string(status.message()).c_str());
  return kExitUsage;
}

// ---- Fetching --------------------------------------------------------------

absl::StatusOr<haven::v1::GetCheckpointResponse> FetchCheckpoint(
    const Invocation& in) {
  haven::v1::GetCheckpointResponse response;
  absl::Status s =
      CallUnary<AuditService>(in, &AuditService::Stub::GetCheckpoint,
                              haven::v1::GetCheckpointRequest(), &response);
  if (!s.ok()) return s;
  return response;
}

// The node's checkpoint, checked against the key it sent. `body` gets the
// verified body.
struct VerifiedCheckpoint {
  haven::v1::GetCheckpointResponse response;
  CheckpointBody body;
};

// Fetches the checkpoint; on a node error returns that status, on a bad
// signature returns it in `verify_error` (exit 4).
absl::StatusOr<VerifiedCheckpoint> FetchVerifiedCheckpoint(
    const Invocation& in, absl::Status* verify_error) {
  auto response = FetchCheckpoint(in);
  if (!response.ok()) return response.status();
  VerifiedCheckpoint out;
  out.response = *std::move(response);
  auto key = ParseVerifierKey(out.response.verifier_key());
  if (!key.ok()) {
    *verify_error = key.status();
    return absl::AbortedError("verification failed");
  }
  auto body = VerifyCheckpoint(out.response.checkpoint().note(), *key,
                               out.response.checkpoint().origin());
  if (!body.ok()) {
    *verify_error = body.status();
    return absl::AbortedError("verification failed");
  }
  out.body = *std::move(body);
  return out;
}

// Entries [start, end) in pages. A node may return fewer than asked (its
// reads are bounded by bytes), so each page starts after the last entry
// the one before returned. DATA_LOSS if the node returns none.
absl::StatusOr<std::vector<haven::v1::IndexedEntry>> FetchEntries(
    const Invocation& in, uint64_t start, uint64_t end) {
  std::vector<haven::v1::IndexedEntry> out;
  while (start < end) {
    haven::v1::GetEntriesRequest request;
    request.set_start(start);
    request.set_count(std::min(kPageSize, end - start));
    haven::v1::GetEntriesResponse response;
    absl::Status s = CallUnary<AuditService>(
        in, &AuditService::Stub::GetEntries, request, &response);
    if (!s.ok()) return s;
    if (response.entries().empty()) {
      return absl::DataLossError(
          absl::StrCat("the node returned no entry at index ", start,
                       " (log size ", end, ")"));
    }
    for (auto& entry : *response.mutable_entries()) {
      if (entry.index() != start) {
        return absl::DataLossError(absl::StrCat(
            "the node returned entry ", entry.index(), " for index ", start));
      }
      CompleteEntry(&entry);
      out.push_back(std::move(entry));
      if (++start == end) break;
    }
  }
  return out;
}

absl::StatusOr<haven::v1::InclusionProof> FetchInclusionProof(
    const Invocation& in, uint64_t index, uint64_t size) {
  haven::v1::GetInclusionProofRequest request;
  request.set_leaf_index(index);
  request.set_tree_size(size);
  haven::v1::GetInclusionProofResponse response;
  absl::Status s = CallUnary<AuditService>(
      in, &AuditService::Stub::GetInclusionProof, request, &response);
  if (!s.ok()) return s;
  return response.proof();
}

absl::StatusOr<haven::v1::ConsistencyProof> FetchConsistencyProof(
    const Invocation& in, uint64_t old_size, uint64_t new_size) {
  haven::v1::GetConsistencyProofRequest request;
  request.set_old_size(old_size);
  request.set_new_size(new_size);
  haven::v1::GetConsistencyProofResponse response;
  absl::Status s = CallUnary<AuditService>(
      in, &AuditService::Stub::GetConsistencyProof, request, &response);
  if (!s.ok()) return s;
  return response.proof();
}

// The root of the tree of `size` leaves, proven against the verified
// checkpoint: the checkpoint's own root, or the old root of a consistency
// proof from `size` to the checkpoint's size that verifies. Node errors come
// back as the status; a proof that fails sets `verify_error`.
absl::StatusOr<std::string> ProvenRootAt(const Invocation& in,
                                         const CheckpointBody& checkpoint,
                                         uint64_t size,
                                         absl::Status* verify_error) {
  if (size == checkpoint.tree_size) return checkpoint.root_hash;
  if (size > checkpoint.tree_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("size ", size, " is beyond the latest checkpoint (",
                     checkpoint.tree_size, " entries)"));
  }
  auto proof = FetchConsistencyProof(in, size, checkpoint.tree_size);
  if (!proof.ok()) return proof.status();
  absl::Status s =
      VerifyConsistency(size, checkpoint.tree_size, ToVector(proof->hashes()),
                        proof->old_root(), checkpoint.root_hash);
  if (!s.ok()) {
    *verify_error = s;
    return absl::AbortedError("verification failed");
  }
  return proof->old_root();
}

// ---- Printing --------------------------------------------------------------

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

// ---- checkpoint, key -------------------------------------------------------

int Checkpoint(const Invocation& in) {
  // --cosigned K: the newest checkpoint with K cosignatures, lines included.
  haven::v1::GetCheckpointRequest request;
  if (in.args.Has("cosigned")) {
    auto min = UintFlag(in, "cosigned", std::nullopt);
    if (!min.ok()) return UsageError(min.status());
    request.set_cosigned(true);
    request.set_min_cosignatures(static_cast<uint32_t>(
        std::min<uint64_t>(*min, limits::kMaxCosignaturesPerCheckpoint + 1)));
  }
  haven::v1::GetCheckpointResponse response;
  if (absl::Status s = CallUnary<AuditService>(
          in, &AuditService::Stub::GetCheckpoint, request, &response);
      !s.ok()) {
    return Report(s);
  }
  const haven::v1::Checkpoint& cp = response.checkpoint();
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
  auto response = FetchCheckpoint(in);
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

// ---- tail ------------------------------------------------------------------

int Follow(const Invocation& in, uint64_t start) {
  auto connection = in.connect();
  if (!connection.ok()) return Report(connection.status());
  auto stub = AuditService::NewStub((*connection)->channel());
  // A stream that lasts until interrupted: no deadline, same credentials.
  grpc::ClientContext context;
  const std::string& token = (*connection)->options().token;
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  haven::v1::FollowRequest request;
  request.set_start(start);
  auto reader = stub->Follow(&context, request);
  haven::v1::FollowResponse response;
  while (reader->Read(&response)) {
    CompleteEntry(response.mutable_entry());
    PrintEntry(in, response.entry());
  }
  return Report(FromGrpcStatus(reader->Finish()));
}

int Tail(const Invocation& in) {
  auto from = UintFlag(in, "from", 0);
  if (!from.ok()) return UsageError(from.status());
  uint64_t next = *from;
  while (true) {
    haven::v1::GetEntriesRequest request;
    request.set_start(next);
    request.set_count(kPageSize);
    haven::v1::GetEntriesResponse response;
    absl::Status s = CallUnary<AuditService>(
        in, &AuditService::Stub::GetEntries, request, &response);
    if (!s.ok()) {
      // Starting past the end is fine when following.
      if (s.code() == absl::StatusCode::kOutOfRange && in.args.Has("follow")) {
        break;
      }
      return Report(s);
    }
    if (response.entries().empty()) break;
    // Fewer than asked is not the end: continue after the last one.
    for (auto& entry : *response.mutable_entries()) {
      CompleteEntry(&entry);
      PrintEntry(in, entry);
      next = entry.index() + 1;
    }
  }
  if (in.args.Has("follow")) return Follow(in, next);
  return kExitOk;
}

// ---- proof, consistency ----------------------------------------------------

std::string InclusionJson(uint64_t index, uint64_t size,
                          absl::string_view leaf_hash,
                          const std::vector<std::string>& hashes_b64) {
  return JsonObject()
      .Add("leaf_index", index)
      .Add("tree_size", size)
      .Add("leaf_hash", B64(leaf_hash))
      .Add("hashes", hashes_b64)
      .str();
}

std::string ConsistencyJson(const haven::v1::ConsistencyProof& proof) {
  return JsonObject()
      .Add("old_size", static_cast<uint64_t>(proof.old_size()))
      .Add("old_root", B64(proof.old_root()))
      .Add("new_size", static_cast<uint64_t>(proof.new_size()))
      .Add("hashes", B64All(proof.hashes()))
      .str();
}

int Proof(const Invocation& in) {
  auto index = UintFlag(in, "index", std::nullopt);
  if (!index.ok()) return UsageError(index.status());
  absl::Status verify_error;
  auto checkpoint = FetchVerifiedCheckpoint(in, &verify_error);
  if (!verify_error.ok())
    return ReportVerifyFailure("checkpoint", verify_error);
  if (!checkpoint.ok()) return Report(checkpoint.status());
  auto size = UintFlag(in, "size", checkpoint->body.tree_size);
  if (!size.ok()) return UsageError(size.status());
  if (*index >= *size) {
    return UsageError(absl::InvalidArgumentError(absl::StrCat(
        "--index ", *index, " must be below the tree size ", *size)));
  }
  auto root = ProvenRootAt(in, checkpoint->body, *size, &verify_error);
  if (!verify_error.ok()) {
    return ReportVerifyFailure(
        absl::StrCat("root of size ", *size, " vs the checkpoint"),
        verify_error);
  }
  if (!root.ok()) return Report(root.status());
  auto proof = FetchInclusionProof(in, *index, *size);
  if (!proof.ok()) return Report(proof.status());
  auto entries = FetchEntries(in, *index, *index + 1);
  if (!entries.ok()) return Report(entries.status());

  std::printf("%s\n", InclusionJson(*index, *size, proof->leaf_hash(),
                                    B64All(proof->hashes()))
                          .c_str());
  if (HashLeaf((*entries)[0].leaf()) != proof->leaf_hash()) {
    return ReportVerifyFailure(
        absl::StrCat("leaf ", *index),
        absl::DataLossError("the entry does not hash to the proven leaf hash"));
  }
  absl::Status s = VerifyInclusion(*index, *size, proof->leaf_hash(),
                                   ToVector(proof->hashes()), *root);
  if (!s.ok()) {
    return ReportVerifyFailure(absl::StrCat("inclusion of leaf ", *index), s);
  }
  return kExitOk;
}

int Consistency(const Invocation& in) {
  auto from = UintFlag(in, "from", std::nullopt);
  if (!from.ok()) return UsageError(from.status());
  // RFC 6962 / RFC 9162 define no consistency proof from the empty tree
  // (every tree extends it), and standard verifiers such as Go's tlog
  // reject one; asking is a usage error, not a proof to print.
  if (*from == 0) {
    return UsageError(absl::InvalidArgumentError(
        "--from must be at least 1: RFC 6962 defines no consistency proof "
        "from the empty tree (every log extends it)"));
  }
  absl::Status verify_error;
  auto checkpoint = FetchVerifiedCheckpoint(in, &verify_error);
  if (!verify_error.ok())
    return ReportVerifyFailure("checkpoint", verify_error);
  if (!checkpoint.ok()) return Report(checkpoint.status());
  auto to = UintFlag(in, "to", checkpoint->body.tree_size);
  if (!to.ok()) return UsageError(to.status());
  if (*from > *to) {
    return UsageError(absl::InvalidArgumentError(
        absl::StrCat("--from ", *from, " must not exceed --to ", *to)));
  }
  auto root = ProvenRootAt(in, checkpoint->body, *to, &verify_error);
  if (!verify_error.ok()) {
    return ReportVerifyFailure(
        absl::StrCat("root of size ", *to, " vs the checkpoint"), verify_error);
  }
  if (!root.ok()) return Report(root.status());
  auto proof = FetchConsistencyProof(in, *from, *to);
  if (!proof.ok()) return Report(proof.status());
  std::printf("%s\n", ConsistencyJson(*proof).c_str());
  if (proof->old_size() != *from || proof->new_size() != *to) {
    return ReportVerifyFailure(
        "consistency", absl::DataLossError("the node proved other sizes"));
  }
  absl::Status s = VerifyConsistency(*from, *to, ToVector(proof->hashes()),
                                     proof->old_root(), *root);
  if (!s.ok()) {
    return ReportVerifyFailure(absl::StrCat("consistency ", *from, " -> ", *to),
                               s);
  }
  return kExitOk;
}

// ---- verify and its state file ----------------------------------------------

// What `verify` remembers between runs, per origin: the verifier key it
// pinned and the last checkpoint it verified.
struct TrustedState {
  std::string origin;
  std::string verifier_key;
  std::string checkpoint_note;
};

std::string StateFileName(absl::string_view origin) {
  std::string name = "audit-";
  for (char c : origin) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '-';
    name.push_back(plain ? c : '_');
  }
  return name + ".state";
}

absl::StatusOr<std::string> DefaultStatePath(absl::string_view origin) {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    return absl::FailedPreconditionError(
        "HOME is not set: give the state file with --state FILE");
  }
  return absl::StrCat(home, "/.haven/", StateFileName(origin));
}

// nullopt if the file does not exist.
absl::StatusOr<std::optional<TrustedState>> ReadState(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) {
    return std::optional<TrustedState>();
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read state file ", path));
  }
  TrustedState state;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::pair<std::string, std::string> kv =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    if (kv.first == "origin") {
      state.origin = kv.second;
    } else if (kv.first == "verifier_key") {
      state.verifier_key = kv.second;
    } else if (kv.first == "checkpoint") {
      if (!absl::Base64Unescape(kv.second, &state.checkpoint_note)) {
        return absl::FailedPreconditionError(
            absl::StrCat("state file ", path, " holds a malformed checkpoint"));
      }
    }
  }
  if (state.origin.empty() || state.verifier_key.empty() ||
      state.checkpoint_note.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("state file ", path, " is incomplete"));
  }
  return std::optional<TrustedState>(std::move(state));
}

// Writes the state via a temporary file in the same directory, synced and
// renamed into place, mode 0600.
absl::Status WriteState(const std::string& path, const TrustedState& state,
                        uint64_t tree_size) {
  std::filesystem::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) {
    std::filesystem::create_directories(target.parent_path(), ec);
    if (ec) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot create ", target.parent_path().string(), ": ", ec.message()));
    }
  }
  std::string text = absl::StrCat(
      "# havenctl audit verify: the last checkpoint verified for this log\n",
      "origin ", state.origin, "\n", "verifier_key ", state.verifier_key, "\n",
      "tree_size ", tree_size, "\n", "checkpoint ", B64(state.checkpoint_note),
      "\n");
  std::string temp = absl::StrCat(path, ".tmp.", getpid());
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", temp, ": ", std::strerror(errno)));
  }
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  bool ok = written == text.size() && fchmod(fd, 0600) == 0 && fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(temp.c_str(), path.c_str()) != 0) {
    std::string reason = std::strerror(errno);
    unlink(temp.c_str());
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write state file ", path, ": ", reason));
  }
  std::string dir =
      target.has_parent_path() ? target.parent_path().string() : ".";
  int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)fsync(dir_fd);
    close(dir_fd);
  }
  return absl::OkStatus();
}

// --witness VKEY (repeatable) and --min K of `audit verify`: the witness
// keys and how many must have cosigned (default: all given).
struct WitnessQuorum {
  std::vector<NoteVerifierKey> keys;
  uint64_t min = 0;
};

absl::StatusOr<WitnessQuorum> ParseWitnessQuorum(const Invocation& in) {
  WitnessQuorum quorum;
  for (const std::string& vkey : in.args.GetAll("witness")) {
    auto key = ParseCosignatureKey(vkey);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--witness: ", key.status().message()));
    }
    quorum.keys.push_back(*std::move(key));
  }
  auto min = UintFlag(in, "min", quorum.keys.size());
  if (!min.ok()) return min.status();
  quorum.min = *min;
  // More than the keys given can never be met: that is a failed check
  // (exit 4), like too few valid cosignatures, not a usage error.
  if (in.args.Has("min") && quorum.keys.empty()) {
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
int VerifyCosigned(const Invocation& in, const WitnessQuorum& quorum,
                   const std::string& vkey, const std::string& origin,
                   const std::vector<std::string>& leaves, uint64_t* size) {
  haven::v1::GetCheckpointRequest request;
  request.set_cosigned(true);
  request.set_min_cosignatures(static_cast<uint32_t>(quorum.min));
  haven::v1::GetCheckpointResponse response;
  absl::Status s = CallUnary<AuditService>(
      in, &AuditService::Stub::GetCheckpoint, request, &response);
  if (s.code() == absl::StatusCode::kNotFound) {
    return ReportVerifyFailure(
        "witnesses",
        absl::FailedPreconditionError(absl::StrCat(
            "the node has no checkpoint with ", quorum.min, " cosignatures")));
  }
  if (!s.ok()) return Report(s);
  const std::string& note = response.checkpoint().note();
  auto key = ParseVerifierKey(vkey);
  if (!key.ok()) return ReportVerifyFailure("verifier key", key.status());
  if (response.verifier_key() != vkey) {
    return ReportVerifyFailure(
        "cosigned checkpoint",
        absl::DataLossError("it is not signed with the node's key"));
  }
  auto body = VerifyCheckpoint(note, *key, origin);
  if (!body.ok())
    return ReportVerifyFailure("cosigned checkpoint", body.status());
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

int Verify(const Invocation& in) {
  auto quorum = ParseWitnessQuorum(in);
  if (!quorum.ok()) return UsageError(quorum.status());
  auto response = FetchCheckpoint(in);
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
    if (state.verifier_key != vkey) {
      return ReportVerifyFailure(
          "verifier key",
          absl::DataLossError(absl::StrCat(
              "the node's verifier key changed from the pinned key ",
              state.verifier_key, " to ", vkey)));
    }
  }

  // The leaf count comes from the signed checkpoint, checked below; fetch
  // exactly that many leaves.
  uint64_t size = response->checkpoint().tree_size();
  auto entries = FetchEntries(in, 0, size);
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
  input.checkpoint_note = note;
  input.verifier_key = vkey;
  input.origin = origin;
  uint64_t trusted_size = 0;
  if (trusted->has_value()) {
    input.trusted_checkpoint_note = (*trusted)->checkpoint_note;
    auto key = ParseVerifierKey(vkey);
    if (key.ok()) {
      auto body = VerifyCheckpoint((*trusted)->checkpoint_note, *key, origin);
      if (body.ok()) trusted_size = body->tree_size;
    }
  }
  input.inclusion_proof =
      [&in](uint64_t index,
            uint64_t tree_size) -> absl::StatusOr<std::vector<std::string>> {
    auto proof = FetchInclusionProof(in, index, tree_size);
    if (!proof.ok()) return proof.status();
    return ToVector(proof->hashes());
  };

  auto verified = VerifyLogReplay(input);
  if (!verified.ok()) {
    return ReportVerifyFailure(absl::StrCat("log ", origin), verified.status());
  }
  uint64_t cosigned_size = 0;
  if (!quorum->keys.empty()) {
    if (int code = VerifyCosigned(in, *quorum, vkey, origin, input.leaves,
                                  &cosigned_size);
        code != kExitOk) {
      return code;
    }
  }

  TrustedState next{origin, vkey, note};
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

// ---- report ----------------------------------------------------------------

int BreakGlass(const Invocation& in) {
  haven::v1::FindEntriesRequest request;
  request.set_break_glass(true);
  const std::string since = in.args.GetOr("since", "");
  if (!since.empty()) {
    int64_t from = 0;
    if (!absl::SimpleAtoi(since, &from) || from < 0) {
      return UsageError(
          absl::InvalidArgumentError("--since takes Unix seconds"));
    }
    request.mutable_time()->set_from_unix(from);
  }
  haven::v1::FindEntriesResponse response;
  absl::Status s = CallUnary<AuditService>(in, &AuditService::Stub::FindEntries,
                                           request, &response);
  if (!s.ok()) return Report(s);
  return PrintDecisions(in, response.entries(), "no break-glass decisions");
}

// ---- export ----------------------------------------------------------------

int Export(const Invocation& in) {
  std::string out_path = in.args.GetOr("out", "");
  if (out_path.empty()) {
    return UsageError(absl::InvalidArgumentError("--out is required"));
  }
  auto response = FetchCheckpoint(in);
  if (!response.ok()) return Report(response.status());
  const haven::v1::Checkpoint& cp = response->checkpoint();
  uint64_t size = cp.tree_size();
  auto entries = FetchEntries(in, 0, size);
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
    auto proof = FetchInclusionProof(in, indices[i], size);
    if (!proof.ok()) return Report(proof.status());
    inclusion.push_back(InclusionJson(proof->leaf_index(), proof->tree_size(),
                                      proof->leaf_hash(),
                                      B64All(proof->hashes())));
  }
  std::vector<std::string> consistency;
  for (uint64_t old_size : {uint64_t{1}, size / 2}) {
    if (old_size == 0 || old_size >= size) continue;
    if (!consistency.empty() && old_size == 1) continue;
    auto proof = FetchConsistencyProof(in, old_size, size);
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

std::vector<Command> AuditCommands() {
  return {
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
      {"audit",
       "verify",
       "replay and verify the whole log",
       "havenctl audit verify [--state FILE] [--witness VKEY]... [--min K]\n"
       "  Fetches the checkpoint and every entry, recomputes every hash, "
       "checks\n"
       "  the checkpoint signature (against the node's key and the key pinned\n"
       "  in the state file) and consistency with the last checkpoint trusted\n"
       "  there. On success the new checkpoint becomes trusted. Default state\n"
       "  file: $HOME/.haven/audit-<origin>.state. Exit 4 on any failure,\n"
       "  naming the first bad entry or the broken consistency.\n"
       "  --witness (repeatable; a key from `havenctl audit key --type\n"
       "  witness` on that peer's node) also fetches the node's newest\n"
       "  checkpoint with K cosignatures and checks that at least K (--min,\n"
       "  default all given) are valid by those keys over exactly that\n"
       "  checkpoint, and that the log replayed extends it; exit 4 if not.",
       {"state", "witness", "min"},
       Verify},
      {"audit",
       "break-glass",
       "list break-glass decisions for review",
       "havenctl audit break-glass [--since UNIX_SECONDS] [--json]\n"
       "  Every decision an emergency rule made (at most 1000): when, for\n"
       "  which agency, what was given and the written justification, for\n"
       "  the review the task force's protocol requires. Auditor role.",
       {"since"},
       BreakGlass},
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

#include "server/exchange/cosignature_store.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/verify/cosignature.h"
#include "client/verify/signed_note.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "server/exchange/signing.h"

namespace haven::server::exchange {
namespace {

constexpr char kPrefix[] = "cosigned/";
// A cosignature dated further ahead than this is refused (the spec lets a
// verifier refuse future timestamps; clocks of members differ a little).
constexpr int64_t kMaxClockSkewSeconds = 3600;

std::string KeyFor(uint64_t tree_size) {
  std::string key = kPrefix;
  for (int shift = 56; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((tree_size >> shift) & 0xFF));
  }
  return key;
}

}  // namespace

absl::Status CosignatureStore::Accept(const haven::v1::Member& peer,
                                      uint64_t tree_size,
                                      absl::string_view cosigned_note) {
  const audit::AuditLog& log = *deps_.own_log;
  auto parsed = client::ParseNote(cosigned_note);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cosigned_note: ", parsed.status().message()));
  }
  // Is this a checkpoint this node signed, of the log it has now? The key
  // alone is not enough: a data dir started afresh keeps the key.
  // Signed by the key in force or an earlier one: a signing-key rotation
  // may fall between the round's send and its answer.
  std::optional<client::NoteSignature> own_line;
  absl::StatusOr<client::CheckpointBody> body =
      absl::FailedPreconditionError("not signed by this node");
  for (const std::string& vkey : log.VerifierKeys()) {
    auto own_key = client::ParseVerifierKey(vkey);
    if (!own_key.ok()) return own_key.status();
    body = client::VerifyCheckpoint(cosigned_note, *own_key, log.origin());
    if (!body.ok()) continue;
    for (const client::NoteSignature& sig : parsed->signatures) {
      if (sig.name == own_key->name && sig.key_id == own_key->key_id) {
        own_line = sig;
        break;
      }
    }
    break;
  }
  if (!own_line.has_value() || !body.ok() || body->tree_size != tree_size ||
      tree_size > log.Size() || !body->extensions.empty()) {
    return absl::FailedPreconditionError(
        "cosigned_note is not a checkpoint this node signed");
  }
  HAVEN_ASSIGN_OR_RETURN(std::string root, log.RootAt(tree_size));
  if (root != body->root_hash) {
    return absl::FailedPreconditionError(
        "cosigned_note is not a checkpoint of this node's current log");
  }

  // The peer cosigns with its signing key: either of its manifest keys
  // during a rotation.
  std::vector<client::NoteVerifierKey> witnesses;
  for (const std::string& vkey : MemberVerifierKeys(peer)) {
    auto peer_key = client::ParseVerifierKey(vkey);
    if (!peer_key.ok()) {
      return absl::FailedPreconditionError(
          "the manifest has no valid signing key for the caller");
    }
    witnesses.push_back(client::CosignatureKeyFor(*peer_key));
  }
  std::optional<std::string> line;
  for (const client::NoteSignature& sig : parsed->signatures) {
    absl::StatusOr<uint64_t> time = absl::NotFoundError("no key");
    for (const client::NoteVerifierKey& witness : witnesses) {
      time = client::VerifyCosignature(parsed->text, sig, witness);
      if (time.status().code() != absl::StatusCode::kNotFound) break;
    }
    if (time.status().code() == absl::StatusCode::kNotFound) continue;
    if (!time.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cosigned_note: ", time.status().message()));
    }
    if (static_cast<int64_t>(*time) >
        deps_.clock->NowUnix() + kMaxClockSkewSeconds) {
      return absl::InvalidArgumentError(
          "cosigned_note: the cosignature is dated in the future");
    }
    line = client::FormatSignatureLine(sig.name, sig.key_id, sig.signature);
  }
  if (!line.has_value()) {
    return absl::InvalidArgumentError(
        "cosigned_note holds no cosignature by the caller's key");
  }

  absl::MutexLock lock(&mu_);
  const std::string key = KeyFor(tree_size);
  haven::v1::CosignedCheckpoint record;
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         deps_.storage->Get(storage::Family::kMeta, key));
  if (stored.has_value() && !record.ParseFromString(*stored)) {
    return absl::DataLossError("stored cosigned checkpoint is corrupt");
  }
  if (!stored.has_value()) {
    haven::v1::Checkpoint* cp = record.mutable_checkpoint();
    cp->set_note(absl::StrCat(
        parsed->text, "\n",
        client::FormatSignatureLine(own_line->name, own_line->key_id,
                                    own_line->signature)));
    cp->set_origin(body->origin);
    cp->set_tree_size(body->tree_size);
    cp->set_root_hash(body->root_hash);
  }
  haven::v1::CosignedCheckpoint::Cosignature* slot = nullptr;
  for (auto& c : *record.mutable_cosignatures()) {
    if (c.agency_id() == peer.agency_id()) slot = &c;
  }
  if (slot == nullptr) {
    if (record.cosignatures_size() >= limits::kMaxCosignaturesPerCheckpoint) {
      return absl::ResourceExhaustedError(
          "this checkpoint holds the most cosignatures kept");
    }
    slot = record.add_cosignatures();
    slot->set_agency_id(peer.agency_id());
  }
  slot->set_line(*line);
  slot->set_received_unix(deps_.clock->NowUnix());

  storage::WriteBatch write;
  write.Put(storage::Family::kMeta, key, record.SerializeAsString());
  // Keep the newest checkpoints only: keys sort by tree size.
  std::vector<std::string> keys;
  HAVEN_RETURN_IF_ERROR(
      deps_.storage->Scan(storage::Family::kMeta, kPrefix,
                          [&](absl::string_view k, absl::string_view) {
                            keys.emplace_back(k);
                            return true;
                          }));
  if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
    keys.push_back(key);
    std::sort(keys.begin(), keys.end());
  }
  for (size_t i = 0; i + limits::kMaxCosignedCheckpoints < keys.size(); ++i) {
    write.Delete(storage::Family::kMeta, keys[i]);
  }
  return deps_.storage->Write(write, /*sync=*/true);
}

absl::StatusOr<haven::v1::Checkpoint> CosignatureStore::Cosigned(
    int min_cosignatures) const {
  const int want = std::max(min_cosignatures, 1);
  std::optional<haven::v1::CosignedCheckpoint> best;
  HAVEN_RETURN_IF_ERROR(
      deps_.storage->ScanMessages<haven::v1::CosignedCheckpoint>(
          storage::Family::kMeta, kPrefix, "cosigned checkpoint",
          [&](haven::v1::CosignedCheckpoint record) {
            // In key order, so the last that qualifies is the newest.
            if (record.cosignatures_size() >= want) best = std::move(record);
            return true;
          }));
  if (!best.has_value()) {
    return absl::NotFoundError(absl::StrCat("no checkpoint of this node has ",
                                            want, " cosignature",
                                            want == 1 ? "" : "s", " yet"));
  }
  haven::v1::Checkpoint out = best->checkpoint();
  for (const auto& c : best->cosignatures()) {
    out.mutable_note()->append(c.line());
  }
  return out;
}

}  // namespace haven::server::exchange

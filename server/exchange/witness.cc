#include "server/exchange/witness.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "client/verify/merkle.h"
#include "client/verify/signed_note.h"
#include "haven/base/status_macros.h"
#include "server/exchange/requester.h"

namespace haven::server::exchange {
namespace {

constexpr char kPrefix[] = "witness/";

}  // namespace

absl::Status Witness::WitnessPeer(const haven::v1::Member& peer) {
  absl::MutexLock lock(&mu_);
  const std::string key = absl::StrCat(kPrefix, peer.agency_id());
  haven::v1::WitnessedCheckpoint previous;
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         deps_.storage->Get(storage::Family::kMeta, key));
  const bool have_previous =
      stored.has_value() && previous.ParseFromString(*stored);

  haven::v1::ExchangeCheckpointRequest call;
  *call.mutable_checkpoint() = deps_.own_log->LatestCheckpoint();
  if (have_previous) call.set_seen_size(previous.checkpoint().tree_size());
  HAVEN_ASSIGN_OR_RETURN(haven::v1::ExchangeCheckpointResponse answer,
                         deps_.peers->ExchangeCheckpoint(peer, call));

  auto key_or = client::ParseVerifierKey(peer.verifier_key());
  if (!key_or.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "manifest has no valid signing key for '", peer.agency_id(), "'"));
  }
  auto body = client::VerifyCheckpoint(answer.checkpoint().note(), *key_or,
                                       CheckpointOrigin(peer.agency_id()));
  if (!body.ok()) {
    return absl::DataLossError(
        absl::StrCat("checkpoint of '", peer.agency_id(),
                     "' does not verify: ", body.status().message()));
  }
  if (have_previous) {
    const haven::v1::Checkpoint& old = previous.checkpoint();
    if (body->tree_size < old.tree_size()) {
      return absl::DataLossError(
          absl::StrCat("log of '", peer.agency_id(), "' shrank from ",
                       old.tree_size(), " to ", body->tree_size, " entries"));
    }
    std::vector<std::string> hashes(answer.proof().hashes().begin(),
                                    answer.proof().hashes().end());
    if (absl::Status consistent =
            client::VerifyConsistency(old.tree_size(), body->tree_size, hashes,
                                      old.root_hash(), body->root_hash);
        !consistent.ok()) {
      return absl::DataLossError(absl::StrCat(
          "log of '", peer.agency_id(),
          "' is not consistent with the checkpoint witnessed before: ",
          consistent.message()));
    }
  }
  haven::v1::WitnessedCheckpoint next;
  next.set_agency_id(peer.agency_id());
  *next.mutable_checkpoint() = answer.checkpoint();
  next.mutable_checkpoint()->set_origin(body->origin);
  next.mutable_checkpoint()->set_tree_size(body->tree_size);
  next.mutable_checkpoint()->set_root_hash(body->root_hash);
  next.set_verified_unix(deps_.clock->NowUnix());
  storage::WriteBatch write;
  write.Put(storage::Family::kMeta, key, next.SerializeAsString());
  return deps_.storage->Write(write, /*sync=*/true);
}

int Witness::WitnessAll() {
  int verified = 0;
  auto manifest = deps_.federation->current();
  for (const auto& member : manifest->proto().members()) {
    if (member.agency_id() == deps_.agency_id ||
        member.status() != haven::v1::MEMBER_ACTIVE) {
      continue;
    }
    if (WitnessPeer(member).ok()) ++verified;
  }
  return verified;
}

absl::StatusOr<std::vector<haven::v1::WitnessedCheckpoint>> Witness::Witnessed(
    const std::string& agency_id) const {
  std::vector<haven::v1::WitnessedCheckpoint> out;
  absl::Status bad;
  HAVEN_RETURN_IF_ERROR(deps_.storage->Scan(
      storage::Family::kMeta, absl::StrCat(kPrefix, agency_id),
      [&](absl::string_view, absl::string_view value) {
        haven::v1::WitnessedCheckpoint witnessed;
        if (!witnessed.ParseFromArray(value.data(),
                                      static_cast<int>(value.size()))) {
          bad = absl::DataLossError("stored witnessed checkpoint is corrupt");
          return false;
        }
        if (agency_id.empty() || witnessed.agency_id() == agency_id) {
          out.push_back(std::move(witnessed));
        }
        return true;
      }));
  HAVEN_RETURN_IF_ERROR(bad);
  return out;
}

}  // namespace haven::server::exchange

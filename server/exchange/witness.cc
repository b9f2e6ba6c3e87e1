#include "server/exchange/witness.h"

#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/verify/cosignature.h"
#include "client/verify/merkle.h"
#include "client/verify/signed_note.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "server/exchange/requester.h"
#include "server/exchange/signing.h"

namespace haven::server::exchange {
namespace {

constexpr char kPrefix[] = "witness/";
constexpr char kFailedPrefix[] = "witness-failed/";
// The principal of the entries the witness writes itself.
constexpr char kPrincipal[] = "havend";
// A failure's detail can quote what the peer sent (an origin line): kept
// short in the log.
constexpr size_t kMaxDetailBytes = 512;

using haven::v1::WitnessFailure;

}  // namespace

absl::StatusOr<client::CheckpointBody> Witness::Check(
    const haven::v1::Member& peer, const haven::v1::Checkpoint* previous,
    const haven::v1::ExchangeCheckpointResponse& answer,
    Failure* failure) const {
  auto key_or = client::ParseVerifierKey(peer.verifier_key());
  if (!key_or.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "manifest has no valid signing key for '", peer.agency_id(), "'"));
  }
  // By either of the peer's keys: during a rotation the manifest lists the
  // next one too.
  auto body = VerifyByMember(
      peer,
      [&](const std::string& vkey) -> absl::StatusOr<client::CheckpointBody> {
        auto key = client::ParseVerifierKey(vkey);
        if (!key.ok()) return key.status();
        return client::VerifyCheckpoint(answer.checkpoint().note(), *key,
                                        client::LogOrigin(peer.agency_id()));
      });
  if (!body.ok()) {
    *failure = {
        WitnessFailure::BAD_SIGNATURE,
        absl::StrCat("checkpoint does not verify: ", body.status().message())};
    return absl::DataLossError(failure->detail);
  }
  if (previous != nullptr) {
    if (body->tree_size < previous->tree_size()) {
      *failure = {WitnessFailure::LOG_SHRANK,
                  absl::StrCat("log shrank from ", previous->tree_size(),
                               " to ", body->tree_size, " entries")};
      return absl::DataLossError(failure->detail);
    }
    std::vector<std::string> hashes(answer.proof().hashes().begin(),
                                    answer.proof().hashes().end());
    if (absl::Status consistent = client::VerifyConsistency(
            previous->tree_size(), body->tree_size, hashes,
            previous->root_hash(), body->root_hash);
        !consistent.ok()) {
      *failure = {
          WitnessFailure::INCONSISTENT,
          absl::StrCat("log of ", body->tree_size,
                       " entries is not consistent with the "
                       "checkpoint of ",
                       previous->tree_size(),
                       " witnessed before (a fork): ", consistent.message())};
      return absl::DataLossError(failure->detail);
    }
  }
  return body;
}

std::string Witness::Cosign(absl::string_view checkpoint_text) const {
  const std::string& name = deps_.own_log->origin();
  const uint64_t now = static_cast<uint64_t>(deps_.clock->NowUnix());
  // Key id and signature from one key, even across a rotation.
  crypto::Ed25519Signer::Signed sig =
      deps_.signer->SignWithKey(client::CosignedMessage(checkpoint_text, now));
  const std::string public_key(sig.public_key.begin(), sig.public_key.end());
  return client::FormatCosignatureLine(
      name, client::CosignatureKeyId(name, public_key), now, sig.signature);
}

Witness::Witness(Deps deps) : deps_(std::move(deps)) {
  if (deps_.metrics != nullptr) {
    rounds_ = deps_.metrics->AddCounter(
        "haven_witness_rounds_total",
        "Witnessing rounds with each peer, by result (verified, failed: the "
        "peer's checkpoint failed its check, unreachable, error).",
        {"peer", "result"});
  }
}

absl::Status Witness::WitnessPeer(const haven::v1::Member& peer) {
  absl::Status status = WitnessPeerUncounted(peer);
  if (rounds_ != nullptr) {
    absl::string_view result;
    switch (status.code()) {
      case absl::StatusCode::kOk:
        result = "verified";
        break;
      case absl::StatusCode::kDataLoss:
        result = "failed";
        break;
      case absl::StatusCode::kUnavailable:
      case absl::StatusCode::kDeadlineExceeded:
        result = "unreachable";
        break;
      default:
        result = "error";
    }
    rounds_->Increment({peer.agency_id(), result});
  }
  return status;
}

absl::Status Witness::WitnessPeerUncounted(const haven::v1::Member& peer) {
  absl::MutexLock lock(&mu_);
  const std::string key = absl::StrCat(kPrefix, peer.agency_id());
  haven::v1::WitnessedCheckpoint previous;
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         deps_.storage->Get(storage::Family::kMeta, key));
  const bool have_previous =
      stored.has_value() && previous.ParseFromString(*stored);
  const haven::v1::Checkpoint* seen =
      have_previous ? &previous.checkpoint() : nullptr;

  haven::v1::ExchangeCheckpointRequest call;
  *call.mutable_checkpoint() = deps_.own_log->LatestCheckpoint();
  call.set_manifest_serial(deps_.federation->current()->serial());
  if (have_previous) call.set_seen_size(previous.checkpoint().tree_size());
  auto answer = deps_.peers->ExchangeCheckpoint(peer, call);
  if (!answer.ok() &&
      answer.status().code() == absl::StatusCode::kFailedPrecondition &&
      have_previous) {
    // The peer says it has fewer entries than it signed before. Its word
    // is no evidence: ask for its checkpoint alone and check that.
    call.set_seen_size(0);
    answer = deps_.peers->ExchangeCheckpoint(peer, call);
  }
  if (!answer.ok()) return answer.status();
  if (deps_.on_answer) deps_.on_answer(peer, *answer);

  Failure failure;
  auto body = Check(peer, seen, *answer, &failure);
  if (!body.ok()) {
    if (body.status().code() != absl::StatusCode::kDataLoss) {
      return body.status();
    }
    return RecordFailure(peer, failure, answer->checkpoint(), seen);
  }
  haven::v1::WitnessedCheckpoint next;
  next.set_agency_id(peer.agency_id());
  *next.mutable_checkpoint() = answer->checkpoint();
  next.mutable_checkpoint()->set_origin(body->origin);
  next.mutable_checkpoint()->set_tree_size(body->tree_size);
  next.mutable_checkpoint()->set_root_hash(body->root_hash);
  next.set_verified_unix(deps_.clock->NowUnix());
  storage::WriteBatch write;
  write.Put(storage::Family::kMeta, key, next.SerializeAsString());
  HAVEN_RETURN_IF_ERROR(deps_.storage->Write(write, /*sync=*/true));

  // Hand the cosignature back in the same round. The note holds exactly
  // what was verified: the peer's text and its own signature lines.
  auto parsed = client::ParseNote(answer->checkpoint().note());
  if (!parsed.ok()) return parsed.status();
  haven::v1::ExchangeCheckpointRequest give;
  *give.mutable_checkpoint() = deps_.own_log->LatestCheckpoint();
  give.set_manifest_serial(deps_.federation->current()->serial());
  give.set_seen_size(body->tree_size);
  give.set_cosigned_note(
      absl::StrCat(answer->checkpoint().note(), Cosign(parsed->text)));
  if (give.cosigned_note().size() > limits::kMaxCheckpointNoteBytes) {
    return absl::FailedPreconditionError(
        "the peer's checkpoint leaves no room for a cosignature");
  }
  HAVEN_ASSIGN_OR_RETURN(haven::v1::ExchangeCheckpointResponse again,
                         deps_.peers->ExchangeCheckpoint(peer, give));
  // The peer answered with its checkpoint again: it must extend the one
  // just cosigned. (It is stored at the next round.)
  auto checked = Check(peer, &next.checkpoint(), again, &failure);
  if (!checked.ok()) {
    if (checked.status().code() != absl::StatusCode::kDataLoss) {
      return checked.status();
    }
    return RecordFailure(peer, failure, again.checkpoint(), &next.checkpoint());
  }
  return absl::OkStatus();
}

absl::Status Witness::RecordFailure(const haven::v1::Member& peer,
                                    const Failure& failure,
                                    const haven::v1::Checkpoint& presented,
                                    const haven::v1::Checkpoint* previous) {
  const std::string key = absl::StrCat(kFailedPrefix, peer.agency_id());
  const absl::Status reported = absl::DataLossError(
      absl::StrCat("checkpoint of '", peer.agency_id(), "': ", failure.detail));
  haven::v1::WitnessFailures kept;
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         deps_.storage->Get(storage::Family::kMeta, key));
  if (stored.has_value() && !kept.ParseFromString(*stored)) {
    // Evidence is not thrown away silently: the log entry below still
    // says what happened; the list starts again.
    kept.Clear();
  }
  const int64_t now = deps_.clock->NowUnix();
  storage::WriteBatch write;
  if (kept.failures_size() > 0) {
    WitnessFailure* last = kept.mutable_failures(kept.failures_size() - 1);
    // The same failure again: same kind, against the same checkpoint
    // witnessed before (a forked log that keeps growing presents a new
    // note every round, but the checkpoint it fails to extend stays the
    // one kept). One entry per failure, not per round; the first
    // evidence is kept.
    const std::string witnessed_note =
        previous != nullptr ? previous->note() : std::string();
    if (last->kind() == failure.kind &&
        last->witnessed().note() == witnessed_note) {
      last->set_last_unix(now);
      last->set_repeats(last->repeats() + 1);
      write.Put(storage::Family::kMeta, key, kept.SerializeAsString());
      HAVEN_RETURN_IF_ERROR(deps_.storage->Write(write, /*sync=*/true));
      return reported;
    }
  }
  WitnessFailure* next = kept.add_failures();
  next->set_agency_id(peer.agency_id());
  next->set_kind(failure.kind);
  next->set_detail(failure.detail.substr(0, kMaxDetailBytes));
  // Only the bounded fields of what the peer sent are kept.
  if (presented.note().size() <= limits::kMaxCheckpointNoteBytes) {
    next->mutable_checkpoint()->set_note(presented.note());
  }
  auto body = client::ParseNote(presented.note());
  if (body.ok()) {
    auto parsed = client::ParseCheckpointBody(body->text);
    if (parsed.ok() &&
        parsed->origin.size() <= limits::kMaxCheckpointOriginBytes) {
      next->mutable_checkpoint()->set_origin(parsed->origin);
      next->mutable_checkpoint()->set_tree_size(parsed->tree_size);
      next->mutable_checkpoint()->set_root_hash(parsed->root_hash);
    }
  }
  if (previous != nullptr) *next->mutable_witnessed() = *previous;
  next->set_first_unix(now);
  next->set_last_unix(now);
  next->set_repeats(1);
  while (kept.failures_size() > limits::kMaxWitnessFailuresPerPeer) {
    kept.mutable_failures()->DeleteSubrange(0, 1);
  }

  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::WITNESS_FAILED);
  entry.set_agency_id(peer.agency_id());
  entry.set_detail(absl::StrCat(WitnessFailure::Kind_Name(failure.kind),
                                ": checkpoint of '", peer.agency_id(),
                                "': ", next->detail()));
  audit::Action action;
  action.entries.push_back(
      deps_.recorder->Stamped(std::move(entry), kPrincipal, ""));
  write.Put(storage::Family::kMeta, key, kept.SerializeAsString());
  action.state = std::move(write);
  HAVEN_ASSIGN_OR_RETURN(uint64_t index,
                         deps_.recorder->Commit(std::move(action)));
  // The index is known once committed; a crash before this write leaves
  // it 0, the entry itself is on record.
  kept.mutable_failures(kept.failures_size() - 1)->set_audit_index(index);
  storage::WriteBatch indexed;
  indexed.Put(storage::Family::kMeta, key, kept.SerializeAsString());
  HAVEN_RETURN_IF_ERROR(deps_.storage->Write(indexed, /*sync=*/true));
  return reported;
}

int Witness::WitnessAll() {
  int verified = 0;
  auto manifest = deps_.federation->current();
  for (const auto& member : manifest->proto().members()) {
    if (member.agency_id() == deps_.agency_id ||
        member.status() != haven::v1::MEMBER_ACTIVE) {
      continue;
    }
    // A checkpoint that fails its check is kept and logged by WitnessPeer.
    // Any other error (the peer unreachable, a deadline, a refusal) says
    // nothing about the peer's log and is not logged: a member down for
    // maintenance would otherwise add an entry per round (2880 a day at
    // the default interval) and bury the entries that matter. The node's
    // event log shows how many peers each round verified.
    if (WitnessPeer(member).ok()) ++verified;
  }
  return verified;
}

absl::StatusOr<std::vector<haven::v1::WitnessedCheckpoint>> Witness::Witnessed(
    const std::string& agency_id) const {
  std::vector<haven::v1::WitnessedCheckpoint> out;
  HAVEN_RETURN_IF_ERROR(
      deps_.storage->ScanMessages<haven::v1::WitnessedCheckpoint>(
          storage::Family::kMeta, absl::StrCat(kPrefix, agency_id),
          "witnessed checkpoint",
          [&](haven::v1::WitnessedCheckpoint witnessed) {
            if (agency_id.empty() || witnessed.agency_id() == agency_id) {
              out.push_back(std::move(witnessed));
            }
            return true;
          }));
  return out;
}

absl::StatusOr<std::vector<haven::v1::WitnessFailure>> Witness::Failures(
    const std::string& agency_id) const {
  std::vector<haven::v1::WitnessFailure> out;
  HAVEN_RETURN_IF_ERROR(deps_.storage->ScanMessages<haven::v1::WitnessFailures>(
      storage::Family::kMeta, absl::StrCat(kFailedPrefix, agency_id),
      "witness failure record", [&](haven::v1::WitnessFailures kept) {
        for (auto& f : *kept.mutable_failures()) {
          if (agency_id.empty() || f.agency_id() == agency_id) {
            out.push_back(std::move(f));
          }
        }
        return true;
      }));
  return out;
}

}  // namespace haven::server::exchange

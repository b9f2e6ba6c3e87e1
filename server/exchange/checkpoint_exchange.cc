#include "server/exchange/checkpoint_exchange.h"

#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"

namespace haven::server::exchange {

absl::StatusOr<haven::v1::ExchangeCheckpointResponse>
CheckpointExchange::Answer(
    const haven::v1::Member& peer,
    const haven::v1::ExchangeCheckpointRequest& request) const {
  // The caller's checkpoint is not kept, but is bounded like everything a
  // peer sends, before the contact counts for anything.
  const haven::v1::Checkpoint& theirs = request.checkpoint();
  HAVEN_RETURN_IF_ERROR(CheckMaxBytes(theirs.note(), "checkpoint.note",
                                      limits::kMaxCheckpointNoteBytes));
  HAVEN_RETURN_IF_ERROR(CheckMaxBytes(theirs.origin(), "checkpoint.origin",
                                      limits::kMaxCheckpointOriginBytes));
  HAVEN_RETURN_IF_ERROR(CheckMaxBytes(
      theirs.root_hash(), "checkpoint.root_hash", limits::kSha256Bytes));
  HAVEN_RETURN_IF_ERROR(CheckMaxBytes(request.cosigned_note(), "cosigned_note",
                                      limits::kMaxCheckpointNoteBytes));
  if (deps_.on_contact) deps_.on_contact(peer, request);
  haven::v1::ExchangeCheckpointResponse response;
  if (deps_.manifest_serial) {
    response.set_manifest_serial(deps_.manifest_serial());
  }
  *response.mutable_checkpoint() = deps_.log->LatestCheckpoint();
  uint64_t size = response.checkpoint().tree_size();
  if (request.seen_size() > size) {
    return absl::FailedPreconditionError(
        "the caller saw a larger tree than this node has");
  }
  if (deps_.witnessed_of) {
    if (auto witnessed = deps_.witnessed_of(peer.agency_id())) {
      *response.mutable_caller_witnessed() = *std::move(witnessed);
    }
  }
  if (request.seen_size() > 0) {
    HAVEN_ASSIGN_OR_RETURN(
        *response.mutable_proof(),
        deps_.log->ConsistencyProof(request.seen_size(), size));
  }
  // The caller's cosignature of the checkpoint it saw: kept only if it
  // verifies under the caller's manifest key, over a checkpoint this node
  // signed.
  if (!request.cosigned_note().empty()) {
    HAVEN_RETURN_IF_ERROR(deps_.cosignatures->Accept(peer, request.seen_size(),
                                                     request.cosigned_note()));
  }
  return response;
}

}  // namespace haven::server::exchange

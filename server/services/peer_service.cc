#include "server/services/peer_service.h"

#include "absl/strings/str_cat.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "server/audit/audit_recorder.h"
#include "server/exchange/cosignature_store.h"
#include "server/exchange/grantee_inbox.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/holder.h"
#include "server/exchange/notice_board.h"
#include "server/exchange/signing.h"
#include "server/node/event_log.h"

namespace haven::server::services {

void PeerServiceImpl::DoDisclose(const haven::v1::Member& peer,
                                 const haven::v1::DiscloseRequest& request,
                                 haven::v1::DiscloseResponse* response,
                                 FinishRpc finish) {
  context_.holder->DiscloseAsync(
      peer, request,
      [response, finish = std::move(finish)](
          absl::StatusOr<haven::v1::DiscloseResponse> answers) mutable {
        absl::Status status = answers.status();
        if (status.ok()) *response = *std::move(answers);
        finish(std::move(status));
      });
}

absl::Status PeerServiceImpl::DoOfferHandle(
    const haven::v1::Member& peer, const haven::v1::OfferHandleRequest& request,
    haven::v1::OfferHandleResponse*) {
  HAVEN_RETURN_IF_ERROR(context_.inbox->AcceptHandle(peer, request));
  node::LogEvent("handle_received", {{"holder", peer.agency_id()}});
  return absl::OkStatus();
}

absl::Status PeerServiceImpl::DoNotifyRevocation(
    const haven::v1::Member& peer,
    const haven::v1::NotifyRevocationRequest& request,
    haven::v1::NotifyRevocationResponse*) {
  HAVEN_RETURN_IF_ERROR(context_.inbox->AcceptNotice(peer, request));
  node::LogEvent(
      "revocation_notice_received",
      {{"holder", peer.agency_id()}, {"change", request.notice().change()}});
  return absl::OkStatus();
}

absl::Status PeerServiceImpl::DoExchangeCheckpoint(
    const haven::v1::Member& peer,
    const haven::v1::ExchangeCheckpointRequest& request,
    haven::v1::ExchangeCheckpointResponse* response) {
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
  if (context_.on_peer_contact) context_.on_peer_contact(peer.agency_id());
  const audit::AuditLog& log = *context_.audit->log();
  *response->mutable_checkpoint() = log.LatestCheckpoint();
  uint64_t size = response->checkpoint().tree_size();
  if (request.seen_size() > size) {
    return absl::FailedPreconditionError(
        "the caller saw a larger tree than this node has");
  }
  if (request.seen_size() > 0) {
    HAVEN_ASSIGN_OR_RETURN(*response->mutable_proof(),
                           log.ConsistencyProof(request.seen_size(), size));
  }
  // The caller's cosignature of the checkpoint it saw: kept only if it
  // verifies under the caller's manifest key, over a checkpoint this node
  // signed (CosignatureStore::Accept).
  if (!request.cosigned_note().empty()) {
    HAVEN_RETURN_IF_ERROR(context_.cosignatures->Accept(
        peer, request.seen_size(), request.cosigned_note()));
  }
  return absl::OkStatus();
}

}  // namespace haven::server::services

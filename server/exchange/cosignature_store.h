// CosignatureStore: the peers' cosignatures (C2SP tlog-cosignature,
// cosignature/v1) of this node's own checkpoints, as witnesses send them
// back in ExchangeCheckpoint, and the cosigned checkpoint an auditor asks
// for (GetCheckpoint with `cosigned`).
//
// A cosignature is kept only if the note it comes in is a checkpoint this
// node really signed (its own key, its origin, and the root of its own
// tree at that size) and the line verifies under the sending agency's
// manifest key. One line per witness agency per checkpoint (a newer one
// replaces the older), at most limits::kMaxCosignaturesPerCheckpoint; only
// the limits::kMaxCosignedCheckpoints newest checkpoints are kept. Stored
// in the meta family ("cosigned/" + be64(tree size)) through the Storage
// seam, synced; not guarded state: losing a cosignature loses no history,
// the next witnessing round brings a new one.
//
// Thread-safe.
#ifndef HAVEN_SERVER_EXCHANGE_COSIGNATURE_STORE_H_
#define HAVEN_SERVER_EXCHANGE_COSIGNATURE_STORE_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "haven/v1/audit.pb.h"
#include "haven/v1/federation.pb.h"
#include "haven/base/clock.h"
#include "server/audit/audit_log.h"
#include "server/storage/storage.h"

namespace haven::server::exchange {

class CosignatureStore {
 public:
  // All borrowed; must outlive the store.
  struct Deps {
    storage::Storage* storage = nullptr;
    const audit::AuditLog* own_log = nullptr;
    const Clock* clock = nullptr;
  };
  explicit CosignatureStore(Deps deps) : deps_(deps) {}

  // Keeps `peer`'s cosignature from `cosigned_note`: this node's checkpoint
  // of `tree_size` entries with the peer's line appended. INVALID_ARGUMENT
  // if the note is malformed or holds no valid cosignature by the peer's
  // manifest key (or one dated over an hour ahead); FAILED_PRECONDITION if
  // it is not a checkpoint this node signed of its current log;
  // RESOURCE_EXHAUSTED if the checkpoint already holds the most
  // cosignatures; UNAVAILABLE if the write fails.
  absl::Status Accept(const haven::v1::Member& peer, uint64_t tree_size,
                      absl::string_view cosigned_note);

  // The newest kept checkpoint with at least `min_cosignatures` (0 means 1)
  // cosignatures: its note with every kept line appended. NOT_FOUND if
  // none has that many.
  absl::StatusOr<haven::v1::Checkpoint> Cosigned(int min_cosignatures) const;

 private:
  const Deps deps_;
  absl::Mutex mu_;  // one read-modify-write of the records at a time
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_COSIGNATURE_STORE_H_

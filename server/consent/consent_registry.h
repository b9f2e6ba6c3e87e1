// ConsentRegistry: the node's record of consents and refusals.
//
// Advocates record consents (each change is a new version; history is kept,
// never rewritten), pause, resume and revoke them, and record or lift a
// survivor's refusal ("do not share"). The registry counts uses and keeps the
// last use time. Every change is written durably (synced) to the
// ConsentStore first and then published as a new per-subject snapshot, so a
// Revoke has taken effect for every decision that starts after it returns.
// Decisions read snapshots (Snapshot), which never change under the reader.
//
// Error messages never hold subject ids or other personal data.
// Thread-safe: mutations are serialised; reads run concurrently with them.
#ifndef HAVEN_SERVER_CONSENT_CONSENT_REGISTRY_H_
#define HAVEN_SERVER_CONSENT_CONSENT_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "haven/v1/consent.pb.h"
#include "policy/clock.h"
#include "policy/consents.h"
#include "server/consent/consent_store.h"
#include "server/crypto/ed25519_signer.h"

namespace haven::server::consent {

class ConsentRegistry {
 public:
  struct Options {
    ConsentStore* store = nullptr;                  // required; outlives us
    const policy::Clock* clock = nullptr;           // required; outlives us
    const crypto::Ed25519Signer* signer = nullptr;  // required; outlives us
    std::string issuer;  // this node's agency id, put in receipts
  };

  // Loads every stored consent and refusal. INVALID_ARGUMENT if an option is
  // missing; DATA_LOSS if a stored value does not parse.
  static absl::StatusOr<std::unique_ptr<ConsentRegistry>> Create(
      Options options);

  // Records a new consent from `terms` (consent_id, version, status and
  // counts are ignored and set by the registry) and returns the signed
  // receipt of version 1. `actor` is the advocate's local principal.
  // INVALID_ARGUMENT if the terms are incomplete.
  absl::StatusOr<haven::v1::ConsentReceipt> Record(
      const haven::v1::Consent& terms, absl::string_view actor);

  // Adds a new version with new terms (the subject cannot change; the
  // status carries over). NOT_FOUND for an unknown id, FAILED_PRECONDITION
  // for a revoked consent.
  absl::StatusOr<haven::v1::ConsentReceipt> Amend(
      absl::string_view consent_id, const haven::v1::Consent& terms,
      absl::string_view actor);

  // ACTIVE -> PAUSED. `reason` is required (no personal data).
  absl::StatusOr<haven::v1::ConsentReceipt> Pause(absl::string_view consent_id,
                                                  absl::string_view reason,
                                                  absl::string_view actor);
  // PAUSED -> ACTIVE.
  absl::StatusOr<haven::v1::ConsentReceipt> Resume(absl::string_view consent_id,
                                                   absl::string_view actor);
  // ACTIVE or PAUSED -> REVOKED (final). `reason` is required. When this
  // returns OK, no decision that starts afterwards can use the consent.
  absl::StatusOr<haven::v1::ConsentReceipt> Revoke(absl::string_view consent_id,
                                                   absl::string_view reason,
                                                   absl::string_view actor);

  // Records a survivor's "do not share" for `subject_id`.
  absl::StatusOr<haven::v1::Refusal> RecordRefusal(
      absl::string_view subject_id, absl::string_view evidence_sha256,
      absl::string_view actor);
  // Lifts an active refusal (kept, marked lifted). FAILED_PRECONDITION if
  // already lifted.
  absl::StatusOr<haven::v1::Refusal> LiftRefusal(absl::string_view refusal_id,
                                                 absl::string_view actor);

  // Every version of a consent, oldest first; the last is current (with its
  // use count, and status EXPIRED once its validity has ended).
  absl::StatusOr<std::vector<haven::v1::Consent>> Get(
      absl::string_view consent_id) const;
  // The current version of each of the subject's consents, and its refusals.
  haven::v1::ListConsentsResponse List(absl::string_view subject_id) const;

  // The subject's consents compiled for the evaluator (never null).
  std::shared_ptr<const policy::CompiledConsents> Snapshot(
      absl::string_view subject_id) const;

  // The uses one ConsumeUses call took, so they can be given back.
  struct TakenUses {
    // Consent id and the start of the use window the use was counted in.
    std::vector<std::pair<std::string, int64_t>> taken;
  };

  // Counts one disclosure under each of `consent_ids` at `now_unix`, all
  // or none. Each consent must still be usable at that instant: a revoke,
  // pause or use limit reached since the decision was made refuses with
  // FAILED_PRECONDITION, so two concurrent requests cannot both take a
  // consent's last use. NOT_FOUND for an unknown id. On a store failure the
  // counts stay taken in memory (an over-count only refuses more) and the
  // error is returned.
  //
  // The counts are written unsynced (ConsentStore::WriteUnsynced): they are
  // durable once the caller's next synced write to the same database
  // returns. The holder makes that write, the disclosure's audit entry,
  // before anything leaves, so no released disclosure goes uncounted after
  // a crash, and the disk is synced once per disclosure group, not twice.
  absl::StatusOr<TakenUses> ConsumeUses(
      const std::vector<std::string>& consent_ids, int64_t now_unix);

  // Gives back uses whose disclosure did not happen after all (its audit
  // entry could not be written). A use window that has started afresh
  // since is left alone. Returns the store's status.
  absl::Status ReturnUses(const TakenUses& uses);

 private:
  struct UseState {
    uint64_t total = 0;
    int64_t last_unix = 0;
    policy::UseWindow window;
  };
  struct Entry {
    std::vector<haven::v1::Consent> history;
    UseState use;
  };

  explicit ConsentRegistry(Options options) : options_(std::move(options)) {}

  absl::Status Load();
  // Queues `entry`'s use count for the store. Returns the next ticket.
  uint64_t QueueUseWrite(const std::string& consent_id, const Entry& entry)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns once every use counted up to `ticket` is written to the store.
  absl::Status WritePendingUses(uint64_t ticket) ABSL_LOCKS_EXCLUDED(mu_);
  // Writes `next` as a new version of an existing consent, then publishes.
  absl::StatusOr<haven::v1::ConsentReceipt> AppendVersion(
      haven::v1::Consent next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::StatusOr<haven::v1::Consent> Current(absl::string_view consent_id) const
      ABSL_LOCKS_EXCLUDED(mu_);
  void Publish(const std::string& subject_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  haven::v1::Consent WithUse(const Entry& entry) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  const Options options_;

  // Serialises mutations (store write + publish).
  absl::Mutex write_mu_;

  // Protected by mu_.
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> consents_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, haven::v1::Refusal> refusals_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<std::string>> subject_consents_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<std::string>> subject_refusals_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string,
                      std::shared_ptr<const policy::CompiledConsents>>
      snapshots_ ABSL_GUARDED_BY(mu_);

  // Use counts waiting to be written (store key -> value), and tickets:
  // every count change takes the next one; uses_written_ is the highest
  // whose counts are in the store. Held while writing a group of counts.
  absl::Mutex use_commit_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  absl::flat_hash_map<std::string, std::string> pending_uses_
      ABSL_GUARDED_BY(mu_);
  uint64_t uses_counted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t uses_written_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace haven::server::consent

#endif  // HAVEN_SERVER_CONSENT_CONSENT_REGISTRY_H_

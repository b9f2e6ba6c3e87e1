// ConsentRegistry: the node's record of consents and refusals, and the one
// place a change to them is made.
//
// Advocates record consents (each change is a new version; history is kept,
// never rewritten), pause, resume and revoke them, and record or lift a
// survivor's refusal ("do not share"). Each change is one action: the
// registry validates it, then commits the new state (sealed at rest), its
// audit entry and what it means for peers (ConsentObserver: handles and
// notices) in one write, and returns only once that write is durable. A
// change takes effect, for every decision that starts afterwards, when it
// is queued for the commit: a disclosure logged after a revocation can
// therefore not have used the revoked consent, and if the commit fails the
// node stops (fail-stop) before anyone relies on either.
//
// Disclosures take their consent uses through ClaimUses, which re-checks
// under the same lock that nothing changed since the decision was made.
//
// Stored in the kConsent family, every value sealed (StateSealer) and bound
// to its key: "c/<id>/<version>" consent versions, "u/<id>" use counts,
// "r/<id>" refusals. Loading opens every value: an edited or moved value
// stops the node (DATA_LOSS); a deleted or rolled-back one is caught by the
// audit log's state check (audit/state_guard.h).
//
// Error messages never hold subject ids or other personal data.
// Thread-safe: mutations are serialised; reads run concurrently with them.
#ifndef HAVEN_SERVER_CONSENT_CONSENT_REGISTRY_H_
#define HAVEN_SERVER_CONSENT_CONSENT_REGISTRY_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "haven/base/limits.h"
#include "haven/v1/consent.pb.h"
#include "haven/base/clock.h"
#include "policy/consents.h"
#include "server/audit/action.h"
#include "server/audit/audit_recorder.h"
#include "server/consent/consent_observer.h"
#include "server/crypto/ed25519_signer.h"
#include "server/crypto/state_sealer.h"
#include "server/storage/storage.h"

namespace haven::server::consent {

// Limits on what an advocate sends (INVALID_ARGUMENT beyond them).
inline constexpr int kMaxConsentPurposes = 16;
inline constexpr int kMaxConsentCategories = 32;
using limits::kMaxReasonBytes;

class ConsentRegistry {
 public:
  struct Options {
    // All borrowed; must outlive the registry.
    storage::Storage* storage = nullptr;
    const audit::AuditRecorder* audit = nullptr;
    const crypto::StateSealer* sealer = nullptr;
    const Clock* clock = nullptr;
    const crypto::Ed25519Signer* signer = nullptr;
    // Optional: what changes mean for peers.
    ConsentObserver* observer = nullptr;
    // This node's agency id, put in receipts.
    std::string issuer;
    // Whether a grantee may be named (a known, active member other than
    // this node, or a sector); a status to return otherwise. Unset: any
    // well-formed grantee.
    std::function<absl::Status(const haven::v1::Grantee&)> check_grantee;
    // Whether a refusal may name `agency_id` (a member of the federation
    // other than this node); a status to return otherwise. Unset: any
    // well-formed agency id.
    std::function<absl::Status(absl::string_view agency_id)>
        check_refused_agency;
    // Whether the subject exists (NOT_FOUND otherwise). Unset: any.
    std::function<absl::Status(absl::string_view subject_id)> check_subject;
  };

  // Loads and opens every stored consent and refusal. INVALID_ARGUMENT if
  // an option is missing; DATA_LOSS if a stored value does not open.
  static absl::StatusOr<std::unique_ptr<ConsentRegistry>> Create(
      Options options);

  // Records a new consent from `terms` (consent_id, version, status and
  // counts are ignored and set by the registry) and returns the signed
  // receipt of version 1. `actor` is the advocate's local principal.
  // INVALID_ARGUMENT if the terms are incomplete, out of bounds or already
  // expired; NOT_FOUND for an unknown subject; the grantee check's status.
  absl::StatusOr<haven::v1::ConsentReceipt> Record(
      const haven::v1::Consent& terms, absl::string_view actor);

  // Adds a new version with new terms (the subject cannot change; the
  // status carries over). NOT_FOUND for an unknown id, FAILED_PRECONDITION
  // for a revoked consent; as Record for the terms.
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

  // Records a survivor's "do not share" for `subject_id`: with every agency
  // when `agency_id` is empty, else with that agency only (its handle is
  // withdrawn in the same commit). INVALID_ARGUMENT for a malformed id or
  // one the agency check refuses.
  absl::StatusOr<haven::v1::Refusal> RecordRefusal(
      absl::string_view subject_id, absl::string_view evidence_sha256,
      absl::string_view actor, absl::string_view agency_id = "");
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
  // `version` (as Get returns it) signed by this node: the survivor's copy
  // of her consent as it stands, checkable offline (client/verify).
  haven::v1::ConsentReceipt Receipt(const haven::v1::Consent& version) const;

  // The subject's consents compiled for the evaluator (never null).
  std::shared_ptr<const policy::CompiledConsents> Snapshot(
      absl::string_view subject_id) const;

  // One disclosure's claim on its consents, from a decision made on
  // `generation` (CompiledConsents::generation) of the subject's consents.
  struct UseClaim {
    std::string subject_id;
    uint64_t generation = 0;
    std::vector<std::string> consent_ids;
  };
  // Called with each claim's outcome (OK: its uses are taken) and the use
  // counts to write; runs with the registry locked, so it must only queue
  // the commit that carries them (AuditLog::CommitAsync).
  using ClaimedFn =
      absl::FunctionRef<void(std::vector<absl::Status>, storage::WriteBatch)>;
  // For each claim: FAILED_PRECONDITION if the subject's consents or
  // refusals changed since its decision, or a consent can no longer be
  // used at `now_unix` (revoked, paused, expired, use limit reached);
  // otherwise one use of each consent is taken. Claims are taken in order,
  // so two cannot share a consent's last use. Then `then` runs, under the
  // same lock that orders consent changes into the log.
  void ClaimUses(const std::vector<UseClaim>& claims, int64_t now_unix,
                 ClaimedFn then);

  // Tells the observer, once per consent, that a consent's validity ended
  // (ConsentChange::Kind::kExpired), so that handles no other consent keeps
  // are withdrawn and their grantees told, each in one commit with its
  // entries. Meant to run periodically; a consent is reported again after
  // a restart (the observer's answer is the same: nothing left to do).
  // Returns how many consents made a change; the commit's error otherwise.
  absl::StatusOr<int> SweepExpired();

  // Tells the observer that the membership of `agencies` changed (a new
  // manifest put them in or out of a sector, suspended or reinstated them,
  // added or removed them; ConsentChange::Kind::kMembershipChanged), once
  // for each subject with an active or paused consent, so that handles are
  // issued to members a live consent now covers and withdrawn from those
  // it no longer does, each subject in one commit with its entries. The
  // subjects are walked in pages of kReconcilePage, and the mutation lock
  // is taken per subject, so consent changes interleave; those already see
  // the new manifest, and the observer's answer for a subject does not
  // depend on when it is asked. At most limits::kMaxManifestMembers
  // agencies (INVALID_ARGUMENT beyond). Returns how many subjects changed;
  // the commit's error otherwise.
  absl::StatusOr<int> ReconcileMembers(std::vector<std::string> agencies);
  static constexpr size_t kReconcilePage = 256;

  // How many consents are in each status now (EXPIRED as Get reports it),
  // and how many refusals are active and lifted: counts only, for the
  // node's metrics. Walks every consent, so meant for a scrape, not a
  // request.
  struct StatusCounts {
    int64_t active = 0;
    int64_t paused = 0;
    int64_t revoked = 0;
    int64_t expired = 0;
    int64_t refusals_active = 0;
    int64_t refusals_lifted = 0;
  };
  StatusCounts CountByStatus() const;

  // Whether `id` names a consent (for the log's recovery check).
  bool HasVersion(absl::string_view consent_id, uint32_t version) const;

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
  absl::Status ValidateTerms(const haven::v1::Consent& terms,
                             bool is_new) const;
  // Commits `next` (a new version of a consent, or a new consent) with its
  // entry and what the observer adds; applies it in memory as it is queued.
  absl::StatusOr<haven::v1::ConsentReceipt> CommitVersion(
      haven::v1::Consent next, haven::v1::EntryKind kind,
      ConsentChange::Kind change, absl::string_view reason,
      absl::string_view detail) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // A change of a consent's status (pause, resume, revoke): allowed only
  // from the statuses `allowed` accepts, else FAILED_PRECONDITION with
  // `refused`; committed as the next version with `reason`.
  struct StatusChange {
    bool (*allowed)(haven::v1::ConsentStatus current);
    const char* refused;
    haven::v1::ConsentStatus to;
    haven::v1::EntryKind entry;
    ConsentChange::Kind kind;
  };
  absl::StatusOr<haven::v1::ConsentReceipt> ChangeStatus(
      absl::string_view consent_id, const StatusChange& change,
      absl::string_view reason, absl::string_view actor)
      ABSL_LOCKS_EXCLUDED(write_mu_);
  absl::StatusOr<haven::v1::Refusal> CommitRefusal(haven::v1::Refusal refusal,
                                                   haven::v1::EntryKind kind,
                                                   ConsentChange::Kind change,
                                                   absl::string_view actor)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Queues `action` under mu_ after `apply` has changed the memory state,
  // then waits for the commit.
  absl::Status Commit(audit::Action action, absl::FunctionRef<void()> apply)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // What the observer sees of the subject once `pending` is applied.
  ConsentChange MakeChange(ConsentChange::Kind kind,
                           const std::string& subject_id,
                           const haven::v1::Consent* pending,
                           const haven::v1::Refusal* pending_refusal,
                           absl::string_view actor) const
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<haven::v1::Consent> Current(absl::string_view consent_id) const
      ABSL_LOCKS_EXCLUDED(mu_);
  void Publish(const std::string& subject_id, bool terms_changed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  haven::v1::Consent WithUse(const Entry& entry) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::string SealAt(absl::string_view key, absl::string_view plain) const;

  // Constant after construction.
  const Options options_;

  // Serialises mutations (validate, commit, apply).
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // Expired consents SweepExpired has reported (since this start).
  absl::flat_hash_set<std::string> expiry_swept_ ABSL_GUARDED_BY(write_mu_);

  // Protected by mu_. Held while a change or a claim is queued for the
  // commit, so the log's order is the order changes took effect.
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> consents_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, haven::v1::Refusal> refusals_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<std::string>> subject_consents_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<std::string>> subject_refusals_
      ABSL_GUARDED_BY(mu_);
  // Subjects with an active or paused consent, in order (kept by Publish):
  // those a membership change can concern.
  absl::btree_set<std::string> live_subjects_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string,
                      std::shared_ptr<const policy::CompiledConsents>>
      snapshots_ ABSL_GUARDED_BY(mu_);
  uint64_t next_generation_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace haven::server::consent

#endif  // HAVEN_SERVER_CONSENT_CONSENT_REGISTRY_H_

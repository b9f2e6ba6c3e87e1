// CaseReferences: an agency's own case reference for a subject (e.g.
// "SH-2026-0142"), so that people find a subject without handling its
// opaque id.
//
// A reference is never stored in clear: its key is a keyed hash
// (StateSealer::Mac, an HMAC-SHA-256 under a key derived from the master
// key), so the node can look a reference up but cannot list references,
// and a copy of the database tells nothing about them. Stored in kMeta:
//   "caseref/<hex mac>"          -> the subject id, sealed to that place
//   "caseref-of/<subject id>"    -> "<hex mac>" (to remove it on erasure)
// The writes ride in the subject's own commit (RecordDesk), so a subject
// and its reference exist together or not at all.
//
// Thread-safe. Callers hold Lock() from Find to the commit so that two
// subjects cannot take one reference.
#ifndef HAVEN_SERVER_VAULT_CASE_REFERENCES_H_
#define HAVEN_SERVER_VAULT_CASE_REFERENCES_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/crypto/state_sealer.h"
#include "server/storage/storage.h"

namespace haven::server::vault {

class CaseReferences {
 public:
  // Both borrowed; they must outlive this.
  CaseReferences(storage::Storage* storage, const crypto::StateSealer* sealer)
      : storage_(storage), sealer_(sealer) {}

  // INVALID_ARGUMENT unless `reference` is 1 to
  // limits::kMaxCaseReferenceBytes of printable ASCII (the reference is not
  // echoed).
  static absl::Status Check(absl::string_view reference);

  // The subject with `reference`, or nullopt. DATA_LOSS if the stored id
  // does not open.
  absl::StatusOr<std::optional<std::string>> Find(
      absl::string_view reference) const;
  // Adds the writes that give `subject_id` `reference`.
  void Add(absl::string_view reference, absl::string_view subject_id,
           storage::WriteBatch* batch) const;
  // Adds the writes that remove `subject_id`'s reference, if it has one.
  absl::Status Remove(absl::string_view subject_id,
                      storage::WriteBatch* batch) const;

  // Held across Find and the commit that adds a reference.
  absl::Mutex& mutex() const { return mu_; }

 private:
  std::string KeyOf(absl::string_view reference) const;

  storage::Storage* const storage_;
  const crypto::StateSealer* const sealer_;
  mutable absl::Mutex mu_;
};

}  // namespace haven::server::vault

#endif  // HAVEN_SERVER_VAULT_CASE_REFERENCES_H_

// HandleStore: subject handles, the only way a peer can name a subject.
//
// At the holder, a handle is random, scoped to one grantee agency and maps
// to one subject. At the grantee, received handles are listed to its
// caseworkers. Lookups for a handle that is unknown, or that was issued to a
// different agency, return the same NOT_FOUND so a prober learns nothing.
// Stored in the node database (meta family, "exchange/" prefix); keys hold
// random handles and agency ids only. Thread-safe.
#ifndef HAVEN_SERVER_EXCHANGE_HANDLE_STORE_H_
#define HAVEN_SERVER_EXCHANGE_HANDLE_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "haven/v1/exchange.pb.h"
#include "server/storage/database.h"

namespace haven::server::exchange {

class HandleStore {
 public:
  // `db` must outlive the store.
  explicit HandleStore(storage::Database* db) : db_(db) {}

  // Holder side: the handle for (subject, grantee), made on first use.
  absl::StatusOr<haven::v1::SubjectHandle> IssueHandle(
      const std::string& holder, const std::string& subject_id,
      const std::string& grantee, absl::Time now);
  // Holder side: the subject a handle names, if it was issued to `grantee`.
  absl::StatusOr<std::string> Resolve(const std::string& handle,
                                      const std::string& grantee) const;
  // Holder side: every handle issued for a subject (for revocation notices).
  absl::StatusOr<std::vector<haven::v1::SubjectHandle>> HandlesForSubject(
      const std::string& subject_id) const;

  // Grantee side.
  absl::Status StoreReceived(const haven::v1::SubjectHandle& handle);
  absl::StatusOr<std::vector<haven::v1::SubjectHandle>> ListReceived() const;

 private:
  storage::Database* db_;
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_HANDLE_STORE_H_

// HandleStore: subject handles, the only way a peer can name a subject.
//
// At the holder, a handle is random, scoped to one grantee agency and maps
// to one subject. It lives while a consent for that grantee does (see
// consent_fanout.h, which issues and withdraws handles in the same commit
// as the consent change). At the grantee, received handles are listed to
// its caseworkers a page at a time, in key order, each page bounded by
// count and bytes (limits.h). Lookups for a handle that is unknown, withdrawn,
// or issued to a different agency return the same NOT_FOUND so a prober learns
// nothing.
//
// Stored in the kExchange family, every value sealed and bound to its key:
//   "h/<handle>"                       holder: the IssuedHandle
//   "s/<mac(subject)>/<mac(grantee)>"  holder: the same, by subject
//   "r/<holder agency>/<handle>"       grantee: a received SubjectHandle
// (mac: keyed hash under the node's state key, so keys name no subject).
// Writes are added to a WriteBatch that the caller commits with its audit
// entries. A value that does not open gives DATA_LOSS. Thread-safe.
#ifndef HAVEN_SERVER_EXCHANGE_HANDLE_STORE_H_
#define HAVEN_SERVER_EXCHANGE_HANDLE_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "haven/base/limits.h"
#include "haven/v1/exchange.pb.h"
#include "server/crypto/state_sealer.h"
#include "server/storage/storage.h"

namespace haven::server::exchange {

// Handles are 32 lower-case hex characters; anything else is unknown.
inline constexpr size_t kHandleChars = 32;

class HandleStore {
 public:
  // Both borrowed; must outlive the store.
  HandleStore(storage::Storage* storage, const crypto::StateSealer* sealer)
      : storage_(storage), sealer_(sealer) {}

  // Holder side: a new handle for (subject, grantee); not stored until
  // Issue's batch is committed.
  static haven::v1::IssuedHandle NewHandle(const std::string& holder,
                                           const std::string& subject_id,
                                           const std::string& grantee,
                                           absl::Time now);
  // The live handle for (subject, grantee), if any.
  absl::StatusOr<std::optional<haven::v1::IssuedHandle>> Find(
      const std::string& subject_id, const std::string& grantee) const;
  // Every live handle of a subject.
  absl::StatusOr<std::vector<haven::v1::IssuedHandle>> HandlesForSubject(
      const std::string& subject_id) const;
  // Adds storing, or withdrawing, `issued` to `batch`.
  void Issue(const haven::v1::IssuedHandle& issued,
             storage::WriteBatch* batch) const;
  void Withdraw(const haven::v1::IssuedHandle& issued,
                storage::WriteBatch* batch) const;
  // The subject a live handle names, if it was issued to `grantee`.
  absl::StatusOr<std::string> Resolve(const std::string& handle,
                                      const std::string& grantee) const;

  // Grantee side.
  absl::StatusOr<std::optional<haven::v1::SubjectHandle>> FindReceived(
      const std::string& holder, const std::string& handle) const;
  void StoreReceived(const haven::v1::SubjectHandle& handle,
                     storage::WriteBatch* batch) const;
  void ForgetReceived(const std::string& holder, const std::string& handle,
                      storage::WriteBatch* batch) const;
  // One page of ListReceived.
  struct ReceivedPage {
    std::vector<haven::v1::SubjectHandle> handles;
    // Where the next page starts ("<holder>/<handle>" of its first
    // handle); empty when this page holds the last one.
    std::string next;
  };
  // Received handles in key order (by holder, then handle) from `from` on:
  // "" for the first page, else an earlier page's `next`. At most
  // `max_count` handles and `max_bytes` serialized, but at least one if
  // there is any. A handle added or forgotten between pages is listed or
  // not; every other one is listed exactly once.
  absl::StatusOr<ReceivedPage> ListReceived(
      absl::string_view from = "",
      size_t max_count = limits::kMaxHandlesPerPage,
      size_t max_bytes = limits::kMaxReadBytes) const;
  // How many handles `holder` has given this node.
  absl::StatusOr<size_t> CountReceived(const std::string& holder) const;

 private:
  std::string SubjectKey(const std::string& subject_id,
                         const std::string& grantee) const;
  std::string SubjectPrefix(const std::string& subject_id) const;
  template <typename Message>
  absl::StatusOr<Message> OpenAt(absl::string_view key, absl::string_view value,
                                 absl::string_view what) const;
  std::string SealAt(absl::string_view key,
                     const google::protobuf::MessageLite& message) const;

  storage::Storage* const storage_;
  const crypto::StateSealer* const sealer_;
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_HANDLE_STORE_H_

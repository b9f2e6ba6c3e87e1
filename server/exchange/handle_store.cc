#include "server/exchange/handle_store.h"

#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "haven/base/page_budget.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "server/crypto/key_derivation.h"

namespace haven::server::exchange {
// Handles are checked by form with IsNodeId.
static_assert(kHandleChars == limits::kNodeIdChars);

namespace {

using storage::Family;

constexpr char kIssuedPrefix[] = "h/";
constexpr char kBySubjectPrefix[] = "s/";
constexpr char kReceivedPrefix[] = "r/";

absl::Status NotFound() {
  return absl::NotFoundError("no such subject handle for this agency");
}

}  // namespace

template <typename Message>
absl::StatusOr<Message> HandleStore::OpenAt(absl::string_view key,
                                            absl::string_view value,
                                            absl::string_view what) const {
  HAVEN_ASSIGN_OR_RETURN(
      std::string plain,
      sealer_->Open(absl::StrCat("exchange/", key), value, what));
  Message message;
  if (!message.ParseFromString(plain)) {
    return absl::DataLossError(absl::StrCat(what, " is malformed"));
  }
  return message;
}

std::string HandleStore::SealAt(
    absl::string_view key, const google::protobuf::MessageLite& message) const {
  return sealer_->Seal(absl::StrCat("exchange/", key),
                       message.SerializeAsString());
}

std::string HandleStore::SubjectPrefix(const std::string& subject_id) const {
  return absl::StrCat(kBySubjectPrefix,
                      absl::BytesToHexString(
                          sealer_->Mac(absl::StrCat("subject\n", subject_id))),
                      "/");
}

std::string HandleStore::SubjectKey(const std::string& subject_id,
                                    const std::string& grantee) const {
  return absl::StrCat(
      SubjectPrefix(subject_id),
      absl::BytesToHexString(sealer_->Mac(absl::StrCat("grantee\n", grantee))));
}

haven::v1::IssuedHandle HandleStore::NewHandle(const std::string& holder,
                                               const std::string& subject_id,
                                               const std::string& grantee,
                                               absl::Time now) {
  haven::v1::IssuedHandle issued;
  issued.mutable_handle()->set_handle(crypto::RandomHexId(kHandleChars / 2));
  issued.mutable_handle()->set_holder_agency_id(holder);
  issued.mutable_handle()->set_grantee_agency_id(grantee);
  issued.mutable_handle()->set_issued_unix(absl::ToUnixSeconds(now));
  issued.set_subject_id(subject_id);
  return issued;
}

absl::StatusOr<std::optional<haven::v1::IssuedHandle>> HandleStore::Find(
    const std::string& subject_id, const std::string& grantee) const {
  const std::string key = SubjectKey(subject_id, grantee);
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> value,
                         storage_->Get(Family::kExchange, key));
  if (!value.has_value()) return std::nullopt;
  HAVEN_ASSIGN_OR_RETURN(
      haven::v1::IssuedHandle issued,
      OpenAt<haven::v1::IssuedHandle>(key, *value, "a stored handle"));
  if (issued.subject_id() != subject_id ||
      issued.handle().grantee_agency_id() != grantee) {
    return absl::DataLossError("a stored handle is out of place");
  }
  return issued;
}

absl::StatusOr<std::vector<haven::v1::IssuedHandle>>
HandleStore::HandlesForSubject(const std::string& subject_id) const {
  std::vector<haven::v1::IssuedHandle> handles;
  absl::Status bad;
  HAVEN_RETURN_IF_ERROR(storage_->Scan(
      Family::kExchange, SubjectPrefix(subject_id),
      [&](absl::string_view key, absl::string_view value) {
        auto issued =
            OpenAt<haven::v1::IssuedHandle>(key, value, "a stored handle");
        if (!issued.ok()) {
          bad = issued.status();
          return false;
        }
        handles.push_back(*std::move(issued));
        return true;
      }));
  HAVEN_RETURN_IF_ERROR(bad);
  return handles;
}

void HandleStore::Issue(const haven::v1::IssuedHandle& issued,
                        storage::WriteBatch* batch) const {
  const std::string by_handle =
      absl::StrCat(kIssuedPrefix, issued.handle().handle());
  const std::string by_subject =
      SubjectKey(issued.subject_id(), issued.handle().grantee_agency_id());
  batch->Put(Family::kExchange, by_handle, SealAt(by_handle, issued));
  batch->Put(Family::kExchange, by_subject, SealAt(by_subject, issued));
}

void HandleStore::Withdraw(const haven::v1::IssuedHandle& issued,
                           storage::WriteBatch* batch) const {
  batch->Delete(Family::kExchange,
                absl::StrCat(kIssuedPrefix, issued.handle().handle()));
  batch->Delete(
      Family::kExchange,
      SubjectKey(issued.subject_id(), issued.handle().grantee_agency_id()));
}

absl::StatusOr<std::string> HandleStore::Resolve(
    const std::string& handle, const std::string& grantee) const {
  if (!IsNodeId(handle)) return NotFound();
  const std::string key = absl::StrCat(kIssuedPrefix, handle);
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> value,
                         storage_->Get(Family::kExchange, key));
  if (!value.has_value()) return NotFound();
  HAVEN_ASSIGN_OR_RETURN(
      haven::v1::IssuedHandle issued,
      OpenAt<haven::v1::IssuedHandle>(key, *value, "a stored handle"));
  if (issued.handle().handle() != handle) {
    return absl::DataLossError("a stored handle is out of place");
  }
  // Same answer as for an unknown handle: a wrong agency learns nothing.
  if (issued.handle().grantee_agency_id() != grantee) return NotFound();
  return issued.subject_id();
}

absl::StatusOr<std::optional<haven::v1::SubjectHandle>>
HandleStore::FindReceived(const std::string& holder,
                          const std::string& handle) const {
  const std::string key = absl::StrCat(kReceivedPrefix, holder, "/", handle);
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> value,
                         storage_->Get(Family::kExchange, key));
  if (!value.has_value()) return std::nullopt;
  HAVEN_ASSIGN_OR_RETURN(
      haven::v1::SubjectHandle received,
      OpenAt<haven::v1::SubjectHandle>(key, *value, "a received handle"));
  return received;
}

void HandleStore::StoreReceived(const haven::v1::SubjectHandle& handle,
                                storage::WriteBatch* batch) const {
  const std::string key = absl::StrCat(
      kReceivedPrefix, handle.holder_agency_id(), "/", handle.handle());
  batch->Put(Family::kExchange, key, SealAt(key, handle));
}

void HandleStore::ForgetReceived(const std::string& holder,
                                 const std::string& handle,
                                 storage::WriteBatch* batch) const {
  batch->Delete(Family::kExchange,
                absl::StrCat(kReceivedPrefix, holder, "/", handle));
}

absl::StatusOr<HandleStore::ReceivedPage> HandleStore::ListReceived(
    absl::string_view from, size_t max_count, size_t max_bytes) const {
  ReceivedPage page;
  PageBudget budget(max_count, max_bytes);
  absl::Status bad;
  HAVEN_RETURN_IF_ERROR(storage_->ScanFrom(
      Family::kExchange, kReceivedPrefix, absl::StrCat(kReceivedPrefix, from),
      [&](absl::string_view key, absl::string_view value) {
        auto handle =
            OpenAt<haven::v1::SubjectHandle>(key, value, "a received handle");
        if (!handle.ok()) {
          bad = handle.status();
          return false;
        }
        if (!budget.Take(handle->ByteSizeLong())) {
          page.next = std::string(key.substr(strlen(kReceivedPrefix)));
          return false;
        }
        page.handles.push_back(*std::move(handle));
        return true;
      }));
  HAVEN_RETURN_IF_ERROR(bad);
  return page;
}

absl::StatusOr<size_t> HandleStore::CountReceived(
    const std::string& holder) const {
  size_t count = 0;
  HAVEN_RETURN_IF_ERROR(storage_->Scan(
      Family::kExchange, absl::StrCat(kReceivedPrefix, holder, "/"),
      [&](absl::string_view, absl::string_view) {
        ++count;
        return true;
      }));
  return count;
}

}  // namespace haven::server::exchange

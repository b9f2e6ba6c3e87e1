#include "server/vault/case_references.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"

namespace haven::server::vault {
namespace {

constexpr absl::string_view kPrefix = "caseref/";
constexpr absl::string_view kReversePrefix = "caseref-of/";

}  // namespace

absl::Status CaseReferences::Check(absl::string_view reference) {
  if (reference.empty() || reference.size() > limits::kMaxCaseReferenceBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "case_reference is ", reference.size(), " bytes; it must be 1 to ",
        limits::kMaxCaseReferenceBytes));
  }
  for (char c : reference) {
    if (c < 0x20 || c > 0x7e) {
      return absl::InvalidArgumentError(
          "case_reference must be printable ASCII");
    }
  }
  return absl::OkStatus();
}

std::string CaseReferences::KeyOf(absl::string_view reference) const {
  return absl::StrCat(kPrefix, absl::BytesToHexString(sealer_->Mac(absl::StrCat(
                                   "haven.case-reference.v1\n", reference))));
}

absl::StatusOr<std::optional<std::string>> CaseReferences::Find(
    absl::string_view reference) const {
  const std::string key = KeyOf(reference);
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> sealed,
                         storage_->Get(storage::Family::kMeta, key));
  if (!sealed.has_value()) return std::nullopt;
  HAVEN_ASSIGN_OR_RETURN(
      std::string subject_id,
      sealer_->Open(absl::StrCat("meta/", key), *sealed, "a case reference"));
  return subject_id;
}

void CaseReferences::Add(absl::string_view reference,
                         absl::string_view subject_id,
                         storage::WriteBatch* batch) const {
  const std::string key = KeyOf(reference);
  batch->Put(storage::Family::kMeta, key,
             sealer_->Seal(absl::StrCat("meta/", key), subject_id));
  batch->Put(storage::Family::kMeta, absl::StrCat(kReversePrefix, subject_id),
             key);
}

absl::Status CaseReferences::Remove(absl::string_view subject_id,
                                    storage::WriteBatch* batch) const {
  const std::string reverse = absl::StrCat(kReversePrefix, subject_id);
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> key,
                         storage_->Get(storage::Family::kMeta, reverse));
  if (!key.has_value()) return absl::OkStatus();
  batch->Delete(storage::Family::kMeta, *key);
  batch->Delete(storage::Family::kMeta, reverse);
  return absl::OkStatus();
}

}  // namespace haven::server::vault

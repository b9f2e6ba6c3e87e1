#include "server/consent/policy_store.h"

#include "absl/strings/str_cat.h"
#include "haven/base/status_macros.h"

namespace haven::server::consent {
namespace {

constexpr char kKey[] = "p/in-force";

// The place the sealer binds the value to, as the registry's "consent/<key>".
std::string Place() { return absl::StrCat("consent/", kKey); }

}  // namespace

void PolicyStore::Stage(const haven::v1::StoredPolicy& stored,
                        storage::WriteBatch* batch) const {
  batch->Put(storage::Family::kConsent, kKey,
             sealer_->Seal(Place(), stored.SerializeAsString()));
}

absl::StatusOr<std::optional<haven::v1::StoredPolicy>> PolicyStore::Load()
    const {
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> sealed,
                         storage_->Get(storage::Family::kConsent, kKey));
  if (!sealed.has_value()) return std::nullopt;
  HAVEN_ASSIGN_OR_RETURN(
      std::string plain,
      sealer_->Open(Place(), *sealed, "the stored run-time policy"));
  haven::v1::StoredPolicy stored;
  if (!stored.ParseFromString(plain)) {
    return absl::DataLossError("the stored run-time policy is malformed");
  }
  return stored;
}

}  // namespace haven::server::consent

#include "server/federation/membership.h"

#include "absl/strings/str_cat.h"

namespace haven::server::federation {

absl::Status CheckGrantee(const Manifest& manifest, const std::string& self,
                          const haven::v1::Grantee& grantee) {
  if (!grantee.has_agency_id()) return absl::OkStatus();
  const std::string& id = grantee.agency_id();
  if (id == self) {
    return absl::InvalidArgumentError(
        "consent: the grantee cannot be this node's own agency");
  }
  const haven::v1::Member* member = manifest.Find(id);
  if (member == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("consent: grantee agency '", id,
                     "' is not a member of the federation manifest"));
  }
  if (member->status() != haven::v1::MEMBER_ACTIVE) {
    return absl::FailedPreconditionError(
        absl::StrCat("consent: grantee agency '", id, "' is suspended"));
  }
  return absl::OkStatus();
}

absl::Status CheckRefusedAgency(const Manifest& manifest,
                                const std::string& self,
                                absl::string_view agency_id) {
  haven::v1::Grantee grantee;
  grantee.set_agency_id(std::string(agency_id));
  absl::Status checked = CheckGrantee(manifest, self, grantee);
  if (checked.code() == absl::StatusCode::kFailedPrecondition) {
    return absl::OkStatus();  // suspended
  }
  if (!checked.ok()) {
    return absl::InvalidArgumentError(
        "refusal: agency_id must be a member of the federation other than "
        "this node");
  }
  return checked;
}

}  // namespace haven::server::federation

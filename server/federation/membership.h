// Membership rules for what a consent or a refusal may name: the federation
// manifest decides which agencies exist and which are active. Pure functions
// over one manifest snapshot; thread-safe.
#ifndef HAVEN_SERVER_FEDERATION_MEMBERSHIP_H_
#define HAVEN_SERVER_FEDERATION_MEMBERSHIP_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "haven/v1/consent.pb.h"
#include "server/federation/manifest.h"

namespace haven::server::federation {

// Whether an advocate may name `grantee` in a consent: a sector (always),
// or a member of the federation other than `self` that is active.
// INVALID_ARGUMENT for this node or an agency outside the federation,
// FAILED_PRECONDITION for a suspended member.
absl::Status CheckGrantee(const Manifest& manifest, const std::string& self,
                          const haven::v1::Grantee& grantee);

// Whether a survivor's refusal may name `agency_id`: any member other than
// `self`, suspended ones included (the survivor's wish outlasts a
// suspension), but not an agency outside the federation (INVALID_ARGUMENT).
absl::Status CheckRefusedAgency(const Manifest& manifest,
                                const std::string& self,
                                absl::string_view agency_id);

}  // namespace haven::server::federation

#endif  // HAVEN_SERVER_FEDERATION_MEMBERSHIP_H_

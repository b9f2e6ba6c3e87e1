// Policy versions: the SHA-256 of the policy's deterministic serialization.
#include <string>

#include "haven/base/deterministic.h"
#include "haven/base/sha256.h"
#include "policy/loader.h"

namespace haven::policy {

std::string PolicyVersion(const haven::v1::SharingPolicy& policy) {
  return Sha256Hex(Deterministic(policy));
}

}  // namespace haven::policy

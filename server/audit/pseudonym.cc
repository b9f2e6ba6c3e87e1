#include "server/audit/pseudonym.h"

#include "server/crypto/hmac.h"

namespace haven::server::audit {

std::string SubjectPseudonym(const crypto::SecretBytes& key,
                             absl::string_view subject_id) {
  return crypto::HmacSha256Hex(key, subject_id);
}

}  // namespace haven::server::audit

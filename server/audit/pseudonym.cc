#include "server/audit/pseudonym.h"

#include "absl/strings/str_cat.h"
#include "server/crypto/hmac.h"

namespace haven::server::audit {

// Each derivation has its own label, and the agency id is length-prefixed,
// so no input of one can be read as an input of another.

std::string SubjectPseudonym(const crypto::SecretBytes& key,
                             absl::string_view subject_id) {
  return crypto::HmacSha256Hex(key, subject_id);
}

std::string ScopedPseudonym(const crypto::SecretBytes& key,
                            absl::string_view agency_id,
                            absl::string_view subject_pseudonym) {
  return crypto::HmacSha256Hex(
      key, absl::StrCat("haven.v1.scoped-pseudonym\n", agency_id.size(), ":",
                        agency_id, "\n", subject_pseudonym));
}

std::string ConsentReference(const crypto::SecretBytes& key,
                             absl::string_view agency_id,
                             absl::string_view consent_id) {
  return crypto::HmacSha256Hex(
             key, absl::StrCat("haven.v1.consent-reference\n", agency_id.size(),
                               ":", agency_id, "\n", consent_id))
      .substr(0, 32);
}

}  // namespace haven::server::audit

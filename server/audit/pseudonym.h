// Keyed pseudonyms of subjects for the audit log: the log names a subject by
// hex HMAC-SHA-256(node secret, subject id), never by the id itself, so an
// auditor can group entries about one subject without learning who it is.
// Thread-safe.
#ifndef HAVEN_SERVER_AUDIT_PSEUDONYM_H_
#define HAVEN_SERVER_AUDIT_PSEUDONYM_H_

#include <string>

#include "absl/strings/string_view.h"
#include "server/crypto/secret_bytes.h"

namespace haven::server::audit {

// 64 lower-case hex characters. `key` is the node's pseudonym secret.
std::string SubjectPseudonym(const crypto::SecretBytes& key,
                             absl::string_view subject_id);

}  // namespace haven::server::audit

#endif  // HAVEN_SERVER_AUDIT_PSEUDONYM_H_

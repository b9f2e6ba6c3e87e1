// Keyed pseudonyms for the audit log.
//
// The log names a subject by hex HMAC-SHA-256(node secret, subject id),
// never by the id itself, so an auditor can group entries about one subject
// without learning who it is. An entry about another agency's request
// (whose leaf that agency receives as proof) names the subject by a
// pseudonym keyed again for that agency, and a consent by a reference keyed
// for that agency: two agencies that each hold a handle for one survivor
// then receive nothing they could join, while this node, which holds the
// secret, still maps every scoped pseudonym back to its subject.
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

// The subject whose node-wide pseudonym is `subject_pseudonym`, as named in
// entries about `agency_id`'s requests. 64 lower-case hex characters.
std::string ScopedPseudonym(const crypto::SecretBytes& key,
                            absl::string_view agency_id,
                            absl::string_view subject_pseudonym);

// How `consent_id` is named to `agency_id`: in the decisions, audit leaves
// and notices it receives. 32 lower-case hex characters, the form of a
// consent id.
std::string ConsentReference(const crypto::SecretBytes& key,
                             absl::string_view agency_id,
                             absl::string_view consent_id);

}  // namespace haven::server::audit

#endif  // HAVEN_SERVER_AUDIT_PSEUDONYM_H_

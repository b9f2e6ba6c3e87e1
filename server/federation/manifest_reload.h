// ReloadManifest: an operator's "read the manifest file again", as one
// workflow: read and check, log, install, tell the operator.
#ifndef HAVEN_SERVER_FEDERATION_MANIFEST_RELOAD_H_
#define HAVEN_SERVER_FEDERATION_MANIFEST_RELOAD_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/audit/audit_recorder.h"
#include "server/federation/manifest.h"

namespace haven::server::federation {

// Re-reads `registry`'s file for `principal`. A manifest that does not load
// changes nothing and logs nothing (its error is returned). One of another
// federation, or whose serial is not above the one in force, is refused
// (FAILED_PRECONDITION) and the refusal logged (MANIFEST_REFUSED), so that
// an older copy cannot undo a suspension. One that loads and is newer is
// logged (MEMBER_CHANGED) before it takes effect; if the entry cannot be
// written, the old manifest stays in force. Install runs the registry's
// listener (handles follow membership) before this returns; a
// manifest_reloaded event follows. Thread-safe (installs serialise).
absl::StatusOr<std::shared_ptr<const Manifest>> ReloadManifest(
    FederationRegistry& registry, const audit::AuditRecorder& audit,
    const std::string& principal);

}  // namespace haven::server::federation

#endif  // HAVEN_SERVER_FEDERATION_MANIFEST_RELOAD_H_

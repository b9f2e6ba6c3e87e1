#include "server/federation/manifest_reload.h"

#include "absl/strings/str_cat.h"
#include "haven/base/status_macros.h"
#include "server/node/event_log.h"

namespace haven::server::federation {

absl::StatusOr<std::shared_ptr<const Manifest>> ReloadManifest(
    FederationRegistry& registry, const audit::AuditRecorder& audit,
    const std::string& principal) {
  HAVEN_ASSIGN_OR_RETURN(std::shared_ptr<const Manifest> manifest,
                         registry.Load());
  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::MEMBER_CHANGED);
  entry.set_detail(absl::StrCat("manifest serial ", manifest->proto().serial(),
                                ", ", manifest->proto().members_size(),
                                " members"));
  HAVEN_RETURN_IF_ERROR(audit.Record(entry, principal, "").status());
  registry.Install(manifest);
  node::LogEvent("manifest_reloaded",
                 {{"by", principal},
                  {"serial", absl::StrCat(manifest->proto().serial())},
                  {"members", absl::StrCat(manifest->proto().members_size())}});
  return manifest;
}

}  // namespace haven::server::federation

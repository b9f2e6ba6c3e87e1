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
  // Only a newer manifest of the same federation replaces the one in force:
  // an older copy put back would otherwise undo a suspension silently.
  const haven::v1::FederationManifest& in_force = registry.current()->proto();
  const haven::v1::FederationManifest& loaded = manifest->proto();
  std::string refusal;
  if (!in_force.federation().empty() &&
      loaded.federation() != in_force.federation()) {
    refusal =
        absl::StrCat("the manifest is of federation '", loaded.federation(),
                     "', this node's is '", in_force.federation(), "'");
  } else if (loaded.serial() <= in_force.serial()) {
    refusal = absl::StrCat("manifest serial ", loaded.serial(),
                           " is not above the serial in force (",
                           in_force.serial(), ")");
  }
  if (!refusal.empty()) {
    haven::v1::AuditEntry refused;
    refused.set_kind(haven::v1::MANIFEST_REFUSED);
    refused.set_detail(refusal);
    HAVEN_RETURN_IF_ERROR(audit.Record(refused, principal, "").status());
    node::LogEvent("manifest_refused",
                   {{"by", principal},
                    {"serial", absl::StrCat(loaded.serial())},
                    {"in_force", absl::StrCat(in_force.serial())}});
    return absl::FailedPreconditionError(
        absl::StrCat(refusal, "; the manifest in force stays"));
  }
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

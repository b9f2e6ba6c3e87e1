// havenctl admin …: node operation (admin role).
#include <cstdio>

#include "absl/strings/numbers.h"
#include "client/cli/commands.h"
#include "client/cli/node_call.h"

namespace haven::client::cli {
namespace {

namespace v1 = ::haven::v1;

void PrintStatus(const v1::GetStatusResponse& status) {
  std::printf(
      "agency          %s\nversion         %s\npolicy version  %s\n"
      "audit entries   %llu\n",
      status.agency_id().c_str(), status.version().c_str(),
      status.policy_version().empty() ? "(none loaded)"
                                      : status.policy_version().c_str(),
      static_cast<unsigned long long>(status.audit_tree_size()));
  if (!status.manifest_sha256().empty()) {
    std::printf("manifest        serial %llu, sha256 %s\n",
                static_cast<unsigned long long>(status.manifest_serial()),
                status.manifest_sha256().c_str());
  }
  const v1::PeerServingState& peers = status.peer_serving();
  if (peers.state() == v1::PeerServingState::SERVING ||
      peers.state() == v1::PeerServingState::STATE_UNSPECIFIED) {
    std::printf("peers           served\n");
  } else {
    std::printf("peers           REFUSED (%s): %s\n",
                v1::PeerServingState::State_Name(peers.state()).c_str(),
                peers.detail().c_str());
  }
}

int Backup(const Invocation& in) {
  v1::BackupRequest request;
  request.set_to_dir(in.args.GetOr("to", ""));
  if (request.to_dir().empty()) {
    std::fprintf(stderr, "havenctl: --to DIR is required\n");
    return kExitUsage;
  }
  return CallAndPrint(
      in, &NodeClient::Backup, request,
      [&request](const v1::BackupResponse& backup) {
        std::printf(
            "backup written to %s on the node's host: %llu log entries, "
            "%llu bytes (BACKUP_TAKEN entry %llu).\n"
            "It is useless without the node's master key, which it does not "
            "hold;\nkeep the two apart.\n",
            request.to_dir().c_str(),
            static_cast<unsigned long long>(backup.tree_size()),
            static_cast<unsigned long long>(backup.bytes()),
            static_cast<unsigned long long>(backup.audit_index()));
      });
}

int AcknowledgeRollback(const Invocation& in) {
  v1::AcknowledgeRollbackRequest request;
  request.set_reason(in.args.GetOr("reason", ""));
  if (request.reason().empty()) {
    std::fprintf(stderr, "havenctl: --reason TEXT is required\n");
    return kExitUsage;
  }
  return CallAndPrint(in, &NodeClient::AcknowledgeRollback, request,
                      [](const v1::AcknowledgeRollbackResponse& ack) {
                        std::printf(
                            "acknowledged (ROLLBACK_ACKNOWLEDGED entry %llu); "
                            "the node serves its peers again\n",
                            static_cast<unsigned long long>(ack.audit_index()));
                      });
}

void PrintManifest(const v1::ReloadManifestResponse& manifest) {
  std::printf("manifest serial %llu, %u members, sha256 %s\n",
              static_cast<unsigned long long>(manifest.serial()),
              manifest.members(), manifest.sha256().c_str());
}

void PrintRotation(const v1::RotateKeyResponse& rotation) {
  std::printf(
      "key-encryption key version %u is active; %llu data keys re-wrapped\n",
      rotation.new_kek_version(),
      static_cast<unsigned long long>(rotation.data_keys_rewrapped()));
}

int Status(const Invocation& in) {
  return CallAndPrint(in, &NodeClient::GetStatus, v1::GetStatusRequest(),
                      PrintStatus);
}

int ReloadManifest(const Invocation& in) {
  return CallAndPrint(in, &NodeClient::ReloadManifest,
                      v1::ReloadManifestRequest(), PrintManifest);
}

int ReloadCertificate(const Invocation& in) {
  return CallAndPrint(
      in, &NodeClient::ReloadCertificate, v1::ReloadCertificateRequest(),
      [](const v1::ReloadCertificateResponse& reloaded) {
        std::printf("%s certificate %s\n",
                    reloaded.changed() ? "switched to" : "already using",
                    reloaded.cert_sha256().c_str());
      });
}

int RotateKey(const Invocation& in) {
  return CallAndPrint(in, &NodeClient::RotateKey, v1::RotateKeyRequest(),
                      PrintRotation);
}

// What the task force's operator adds to this member's manifest entry.
void PrintSigningKeyRotation(const v1::RotateSigningKeyResponse& rotation) {
  std::printf(
      "new signing key in force (SIGNING_KEY_ROTATED entry %llu)\n"
      "old verifier key: %s\n"
      "new verifier key: %s\n"
      "\n"
      "Add to this member's entry in the federation manifest (and raise its "
      "serial):\n"
      "  next_verifier_key: \"%s\"\n"
      "Peers accept signatures by either key while both are listed. Once "
      "every\npeer has it, move the new key into verifier_key and drop "
      "next_verifier_key.\n",
      static_cast<unsigned long long>(rotation.audit_index()),
      rotation.old_verifier_key().c_str(), rotation.new_verifier_key().c_str(),
      rotation.new_verifier_key().c_str());
}

int RotateSigningKey(const Invocation& in) {
  return CallAndPrint(in, &NodeClient::RotateSigningKey,
                      v1::RotateSigningKeyRequest(), PrintSigningKeyRotation);
}

int RetireKey(const Invocation& in) {
  uint32_t version = 0;
  if (!absl::SimpleAtoi(in.args.GetOr("version", ""), &version) ||
      version == 0) {
    std::fprintf(stderr, "havenctl: --version N is required\n");
    return kExitUsage;
  }
  v1::RetireKeyRequest request;
  request.set_kek_version(version);
  // The response is empty: --json prints {} as it always has.
  return CallAndPrint(in, &NodeClient::RetireKey, request,
                      [version](const v1::RetireKeyResponse&) {
                        std::printf("key-encryption key version %u retired\n",
                                    version);
                      });
}

}  // namespace

std::vector<Command> AdminCommands() {
  return {
      {"admin",
       "status",
       "show the node's agency, version and log size",
       "havenctl admin status",
       {},
       Status},
      {"admin",
       "reload-manifest",
       "re-read the federation manifest now",
       "havenctl admin reload-manifest\n"
       "  A suspended member is refused from the next call on. Only a\n"
       "  manifest of the same federation with a higher serial is taken;\n"
       "  any other is refused and the refusal logged (MANIFEST_REFUSED).",
       {},
       ReloadManifest},
      {"admin",
       "reload-certificate",
       "switch the peer API and peer calls to the certificate files now",
       "havenctl admin reload-certificate\n"
       "  Replace tls.cert_file and tls.key_file first (the task force lists\n"
       "  the new certificate as next_cert_sha256 and every member reloads\n"
       "  that manifest). The node checks the pair (key matches, issued by\n"
       "  the task-force CA, names this agency, listed in the manifest) and\n"
       "  only then switches, without a restart; anything wrong leaves it on\n"
       "  its old certificate. Logged (KEY_ROTATED).",
       {},
       ReloadCertificate},
      {"admin",
       "rotate-signing-key",
       "make a new node signing key (checkpoints, receipts, answers)",
       "havenctl admin rotate-signing-key\n"
       "  The node makes a new Ed25519 signing key, stores it sealed and logs\n"
       "  the switch (SIGNING_KEY_ROTATED, naming both keys, signed by the\n"
       "  old one). Everything signed before keeps verifying under the old\n"
       "  key; `havenctl audit verify` follows the switch. Prints the\n"
       "  next_verifier_key line to add to the federation manifest: until\n"
       "  peers have it they refuse what the new key signs.",
       {},
       RotateSigningKey},
      {"admin",
       "rotate-key",
       "make a new key-encryption key, re-wrap all data keys",
       "havenctl admin rotate-key",
       {},
       RotateKey},
      {"admin",
       "backup",
       "take an online backup of the node into a new directory",
       "havenctl admin backup --to DIR\n"
       "  DIR is an absolute path on the node's host that does not exist\n"
       "  yet (under systemd, below /var/lib/haven/backups). The node keeps\n"
       "  serving. The backup is encrypted under the node's master key and\n"
       "  does not hold it. Restore with havend --restore-from DIR.",
       {"to"},
       Backup},
      {"admin",
       "acknowledge-rollback",
       "serve peers again after a restore or a log that went back",
       "havenctl admin acknowledge-rollback --reason TEXT\n"
       "  After a restore, or once a peer showed it witnessed more of this\n"
       "  node's log than it holds, the node refuses its peers (admin status\n"
       "  says why). Re-apply by hand what the lost entries did (revocations,\n"
       "  erasures, refusals), then acknowledge with a reason of at least\n"
       "  10 characters; the acknowledgement is logged under your name.",
       {"reason"},
       AcknowledgeRollback},
      {"admin",
       "retire-key",
       "retire an old key-encryption key version",
       "havenctl admin retire-key --version N",
       {"version"},
       RetireKey},
  };
}

}  // namespace haven::client::cli

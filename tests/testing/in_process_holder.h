// InProcessHolder: safe-harbor's side of an exchange in one process, with
// real modules: vault, consent registry, the sharing policy of
// policy/examples/safe-harbor.textproto, an audit log on a store that fails
// on demand, handles, the replay guard and the Holder, on a database in a
// temporary directory and a fake clock. Tests of either side of the exchange
// use it instead of processes and sockets. Keys are fixed test keys: the
// holder's, and legal-aid's (the peer) for signing its requests.
//
// Setting up is not thread-safe; the Holder and its modules are.
#ifndef HAVEN_TESTS_TESTING_IN_PROCESS_HOLDER_H_
#define HAVEN_TESTS_TESTING_IN_PROCESS_HOLDER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "haven/v1/federation.pb.h"
#include "policy/clock.h"
#include "policy/policy_holder.h"
#include "server/audit/audit_log.h"
#include "server/audit/audit_recorder.h"
#include "server/audit/audit_store.h"
#include "server/consent/consent_registry.h"
#include "server/consent/consent_store.h"
#include "server/crypto/ed25519_signer.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/holder.h"
#include "server/exchange/replay_guard.h"
#include "server/storage/database.h"
#include "server/vault/record_vault.h"
#include "tests/testing/temp_dir.h"

namespace haven::testing {

class InProcessHolder {
 public:
  // The fake clock's time, in Unix seconds.
  static constexpr int64_t kNow = 1'790'000'000;

  static absl::StatusOr<std::unique_ptr<InProcessHolder>> Create();

  // A survivor whose record holds one CONTACT field `phone`, consented to
  // legal-aid for legal representation, and the handle issued to legal-aid.
  absl::Status AddConsentedSurvivor(const std::string& phone,
                                    std::string* subject, std::string* handle);

  // The manifest entries of safe-harbor (this holder) and legal-aid.
  const haven::v1::Member& holder_member() const { return holder_member_; }
  const haven::v1::Member& peer_member() const { return peer_member_; }

  server::exchange::Holder& holder() { return *holder_; }
  const server::crypto::Ed25519Signer& holder_signer() const {
    return *holder_signer_;
  }
  const server::crypto::Ed25519Signer& peer_signer() const {
    return *peer_signer_;
  }
  server::audit::AuditLog& log() { return *log_; }
  const server::audit::AuditRecorder& recorder() const { return *recorder_; }
  server::audit::FaultInjectingAuditStore& audit_store() {
    return *faulty_store_;
  }
  server::consent::ConsentRegistry& consents() { return *consents_; }
  policy::FakeClock& clock() { return clock_; }

 private:
  InProcessHolder() = default;

  TempDir dir_;
  policy::FakeClock clock_{kNow};
  std::unique_ptr<server::storage::Database> db_;
  std::unique_ptr<server::vault::RecordVault> vault_;
  std::unique_ptr<server::crypto::Ed25519Signer> holder_signer_;
  std::unique_ptr<server::crypto::Ed25519Signer> peer_signer_;
  std::unique_ptr<server::audit::RocksDbAuditStore> rocks_store_;
  std::unique_ptr<server::audit::FaultInjectingAuditStore> faulty_store_;
  std::unique_ptr<server::audit::AuditLog> log_;
  server::crypto::SecretBytes pseudonym_key_;
  std::unique_ptr<server::audit::AuditRecorder> recorder_;
  server::consent::MemoryConsentStore consent_store_;
  std::unique_ptr<server::consent::ConsentRegistry> consents_;
  policy::PolicyHolder policy_;
  std::unique_ptr<server::exchange::HandleStore> handles_;
  server::exchange::ReplayGuard replay_{absl::Seconds(120)};
  std::unique_ptr<server::exchange::Holder> holder_;
  haven::v1::Member holder_member_;
  haven::v1::Member peer_member_;
};

}  // namespace haven::testing

#endif  // HAVEN_TESTS_TESTING_IN_PROCESS_HOLDER_H_

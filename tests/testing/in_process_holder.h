// InProcessHolder: safe-harbor's side of an exchange in one process, with
// real modules: vault, consent registry (whose changes issue handles), the
// sharing policy of policy/examples/safe-harbor.textproto, an audit log on
// a storage that fails on demand (TestLog), handles, the peer outbox, the
// replay guard and the Holder, and a fake clock. Tests of either side of the
// exchange use it instead of processes and sockets. Keys are fixed test
// keys: the holder's, and legal-aid's (the peer) for signing its requests.
//
// Setting up is not thread-safe; the Holder and its modules are.
#ifndef HAVEN_TESTS_TESTING_IN_PROCESS_HOLDER_H_
#define HAVEN_TESTS_TESTING_IN_PROCESS_HOLDER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "haven/v1/federation.pb.h"
#include "tests/testing/fake_clock.h"
#include "policy/policy_holder.h"
#include "server/audit/audit_log.h"
#include "server/audit/audit_recorder.h"
#include "server/consent/consent_registry.h"
#include "server/crypto/ed25519_signer.h"
#include "server/exchange/consent_fanout.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/holder.h"
#include "server/exchange/peer_outbox.h"
#include "server/exchange/replay_guard.h"
#include "server/federation/manifest.h"
#include "server/vault/record_vault.h"
#include "tests/testing/test_log.h"

namespace haven::testing {

class InProcessHolder {
 public:
  // The fake clock's time, in Unix seconds.
  static constexpr int64_t kNow = TestLog::kNow;

  static absl::StatusOr<std::unique_ptr<InProcessHolder>> Create();

  // A survivor whose record holds one CONTACT field `phone`, consented to
  // legal-aid for legal representation, and the handle that consent issued
  // to legal-aid.
  absl::Status AddConsentedSurvivor(const std::string& phone,
                                    std::string* subject, std::string* handle);

  // The manifest entries of safe-harbor (this holder) and legal-aid.
  const haven::v1::Member& holder_member() const { return holder_member_; }
  const haven::v1::Member& peer_member() const { return peer_member_; }

  server::exchange::Holder& holder() { return *holder_; }
  const server::crypto::Ed25519Signer& holder_signer() const {
    return test_log_->signer();
  }
  const server::crypto::Ed25519Signer& peer_signer() const {
    return *peer_signer_;
  }
  server::audit::AuditLog& log() { return test_log_->log(); }
  const server::audit::AuditRecorder& recorder() const {
    return test_log_->recorder();
  }
  FaultInjectingStorage& storage() { return test_log_->storage(); }
  server::consent::ConsentRegistry& consents() { return *consents_; }
  server::vault::RecordVault& vault() { return *vault_; }
  const server::exchange::HandleStore& handles() const { return *handles_; }
  FakeClock& clock() { return test_log_->clock(); }

 private:
  InProcessHolder() = default;

  std::unique_ptr<TestLog> test_log_;
  std::unique_ptr<server::vault::RecordVault> vault_;
  std::unique_ptr<server::crypto::Ed25519Signer> peer_signer_;
  std::unique_ptr<server::federation::FederationRegistry> federation_;
  std::unique_ptr<server::exchange::HandleStore> handles_;
  std::unique_ptr<server::exchange::PeerOutbox> outbox_;
  std::unique_ptr<server::exchange::ConsentFanout> fanout_;
  std::unique_ptr<server::consent::ConsentRegistry> consents_;
  policy::PolicyHolder policy_;
  server::exchange::ReplayGuard replay_{absl::Seconds(120)};
  std::unique_ptr<server::exchange::Holder> holder_;
  haven::v1::Member holder_member_;
  haven::v1::Member peer_member_;
};

}  // namespace haven::testing

#endif  // HAVEN_TESTS_TESTING_IN_PROCESS_HOLDER_H_

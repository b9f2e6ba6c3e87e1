// TestLog: an audit log, its recorder and the node keys, on a
// FaultInjectingStorage, with a fixed master key and a fake clock: the
// commit path of a node, in process, for tests of the modules that commit
// through it. Restart() reopens everything over the storage a crash (or a
// clean stop) leaves, with the same keys.
//
// Setting up and restarting are not thread-safe; the log is.
#ifndef HAVEN_TESTS_TESTING_TEST_LOG_H_
#define HAVEN_TESTS_TESTING_TEST_LOG_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tests/testing/fake_clock.h"
#include "server/audit/audit_log.h"
#include "server/audit/audit_recorder.h"
#include "server/crypto/ed25519_signer.h"
#include "server/crypto/secret_bytes.h"
#include "server/crypto/state_sealer.h"
#include "tests/testing/fault_injecting_storage.h"

namespace haven::testing {

class TestLog {
 public:
  // The fake clock's start, in Unix seconds.
  static constexpr int64_t kNow = 1'790'000'000;

  // A node of `agency` on an empty storage.
  static absl::StatusOr<std::unique_ptr<TestLog>> Create(
      std::string agency = "safe-harbor");

  // Drops the log and opens a new one over storage().Restart(unsynced):
  // what a restarted node finds. The log's Open checks run; their status
  // is returned (and the old log stays closed on error).
  absl::Status Restart(FaultInjectingStorage::Unsynced unsynced =
                           FaultInjectingStorage::Unsynced::kDrop);

  // Stops the log (as a node stopping) without reopening it.
  void Close();

  FaultInjectingStorage& storage() { return *storage_; }
  server::audit::AuditLog& log() { return *log_; }
  const server::audit::AuditRecorder& recorder() const { return *recorder_; }
  const server::crypto::StateSealer& sealer() const { return *sealer_; }
  const server::crypto::Ed25519Signer& signer() const { return *signer_; }
  const server::crypto::SecretBytes& master_key() const { return master_key_; }
  FakeClock& clock() { return clock_; }
  const std::string& agency() const { return agency_; }

 private:
  TestLog() = default;
  absl::Status Open();

  std::string agency_;
  FakeClock clock_{kNow};
  server::crypto::SecretBytes master_key_;
  server::crypto::SecretBytes pseudonym_key_;
  std::unique_ptr<server::crypto::Ed25519Signer> signer_;
  std::unique_ptr<server::crypto::StateSealer> sealer_;
  std::unique_ptr<FaultInjectingStorage> storage_;
  std::unique_ptr<server::audit::AuditLog> log_;
  std::unique_ptr<server::audit::AuditRecorder> recorder_;
};

}  // namespace haven::testing

#endif  // HAVEN_TESTS_TESTING_TEST_LOG_H_

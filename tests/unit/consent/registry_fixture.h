// Shared setup for the consent registry tests: a registry committing
// through an audit log on a fault-injecting storage (TestLog), a fake clock,
// and consent terms from a task-force case.
#ifndef HAVEN_TESTS_UNIT_CONSENT_REGISTRY_FIXTURE_H_
#define HAVEN_TESTS_UNIT_CONSENT_REGISTRY_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "haven/v1/consent.pb.h"
#include "server/consent/consent_registry.h"
#include "server/crypto/ed25519_signer.h"
#include "server/crypto/secret_bytes.h"
#include "tests/testing/test_log.h"

namespace haven::server::consent::testing {

inline constexpr int64_t kNow = haven::testing::TestLog::kNow;

inline std::unique_ptr<crypto::Ed25519Signer> TestSigner() {
  crypto::SecretBytes seed(crypto::Ed25519Signer::kSeedSize);
  for (size_t i = 0; i < seed.size(); ++i) seed.mutable_data()[i] = uint8_t(i);
  return *crypto::Ed25519Signer::FromSeed(seed);
}

// Options for safe-harbor's consent registry committing through `log`,
// telling `observer` (may be null) of each change: how the registry tests
// and the exchange tests that need a registry open one.
inline ConsentRegistry::Options RegistryOptions(
    haven::testing::TestLog& log, ConsentObserver* observer = nullptr) {
  ConsentRegistry::Options options;
  options.storage = &log.storage();
  options.audit = &log.recorder();
  options.sealer = &log.sealer();
  options.clock = &log.clock();
  options.signer = &log.signer();
  options.issuer = "safe-harbor";
  options.observer = observer;
  return options;
}

// Legal representation by the legal-aid office, valid for 30 days.
inline haven::v1::Consent LegalAidTerms(const std::string& subject) {
  haven::v1::Consent c;
  c.set_subject_id(subject);
  c.mutable_grantee()->set_agency_id("legal-aid");
  c.add_purposes(haven::v1::LEGAL_REPRESENTATION);
  c.add_categories(haven::v1::CONTACT);
  c.add_categories(haven::v1::IMMIGRATION);
  c.add_categories(haven::v1::LEGAL);
  c.mutable_valid()->set_from_unix(kNow - 60);
  c.mutable_valid()->set_until_unix(kNow + 30 * 86400);
  c.set_data_life_seconds(90 * 86400);
  c.set_evidence_sha256(std::string(32, '\x07'));
  return c;
}

// A registry and the log it commits through.
class RegistryHarness {
 public:
  // `observer` (optional, borrowed) is told of every change.
  static absl::StatusOr<std::unique_ptr<RegistryHarness>> Create(
      ConsentObserver* observer = nullptr) {
    std::unique_ptr<RegistryHarness> h(new RegistryHarness());
    h->observer_ = observer;
    auto log = haven::testing::TestLog::Create();
    if (!log.ok()) return log.status();
    h->log_ = *std::move(log);
    if (absl::Status s = h->OpenRegistry(); !s.ok()) return s;
    return h;
  }

  // Restarts the node over what the storage holds (see TestLog::Restart);
  // the status of the log's checks, then of the registry's load.
  absl::Status Restart(
      haven::testing::FaultInjectingStorage::Unsynced unsynced =
          haven::testing::FaultInjectingStorage::Unsynced::kDrop) {
    registry_.reset();
    if (absl::Status s = log_->Restart(unsynced); !s.ok()) return s;
    return OpenRegistry();
  }

  // Claims one use of each of `ids` for a decision on the subject's current
  // consents, and commits the counts as a disclosure would.
  absl::Status Claim(const std::string& subject,
                     const std::vector<std::string>& ids) {
    ConsentRegistry::UseClaim claim{
        subject, registry_->Snapshot(subject)->generation, ids};
    return Claim(claim);
  }
  absl::Status Claim(const ConsentRegistry::UseClaim& claim) {
    absl::Status result;
    storage::WriteBatch uses;
    registry_->ClaimUses(
        {claim}, log_->clock().NowUnix(),
        [&](std::vector<absl::Status> r, storage::WriteBatch b) {
          result = r[0];
          uses = std::move(b);
        });
    if (!result.ok()) return result;
    return log_->log().CommitState(std::move(uses));
  }

  ConsentRegistry& registry() { return *registry_; }
  haven::testing::TestLog& log() { return *log_; }

 private:
  RegistryHarness() = default;
  absl::Status OpenRegistry() {
    auto registry = ConsentRegistry::Create(RegistryOptions(*log_, observer_));
    if (!registry.ok()) return registry.status();
    registry_ = *std::move(registry);
    return absl::OkStatus();
  }

  ConsentObserver* observer_ = nullptr;
  std::unique_ptr<haven::testing::TestLog> log_;
  std::unique_ptr<ConsentRegistry> registry_;
};

}  // namespace haven::server::consent::testing

#endif  // HAVEN_TESTS_UNIT_CONSENT_REGISTRY_FIXTURE_H_

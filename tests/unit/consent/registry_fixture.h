// Shared setup for the consent registry tests: a fake clock, a signing key
// and consent terms from a task-force case.
#ifndef HAVEN_TESTS_UNIT_CONSENT_REGISTRY_FIXTURE_H_
#define HAVEN_TESTS_UNIT_CONSENT_REGISTRY_FIXTURE_H_

#include <memory>
#include <string>

#include "haven/v1/consent.pb.h"
#include "policy/clock.h"
#include "server/crypto/ed25519_signer.h"
#include "server/crypto/secret_bytes.h"

namespace haven::server::consent::testing {

inline constexpr int64_t kNow = 1'790'000'000;

inline std::unique_ptr<crypto::Ed25519Signer> TestSigner() {
  crypto::SecretBytes seed(crypto::Ed25519Signer::kSeedSize);
  for (size_t i = 0; i < seed.size(); ++i) seed.mutable_data()[i] = uint8_t(i);
  return *crypto::Ed25519Signer::FromSeed(seed);
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

}  // namespace haven::server::consent::testing

#endif  // HAVEN_TESTS_UNIT_CONSENT_REGISTRY_FIXTURE_H_

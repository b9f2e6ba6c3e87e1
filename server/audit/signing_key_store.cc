#include "server/audit/signing_key_store.h"

#include <span>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/verify/key_switch.h"
#include "client/verify/signed_note.h"
#include "haven/base/status_macros.h"
#include "haven/v1/state.pb.h"
#include "server/audit/audit_log.h"
#include "server/crypto/aead.h"
#include "server/crypto/node_keys.h"

namespace haven::server::audit {
namespace {

constexpr absl::string_view kKey = "signing-key";
// Where the sealed value lives: its associated data, so it opens nowhere
// else.
constexpr absl::string_view kPlace = "meta/signing-key";

absl::StatusOr<std::string> VerifierKeyOf(const crypto::Ed25519Signer& signer,
                                          absl::string_view origin) {
  const crypto::Ed25519Signer::PublicKey& pk = signer.public_key();
  return client::FormatVerifierKey(origin, std::string(pk.begin(), pk.end()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SigningKeyStore>> SigningKeyStore::Open(
    Options options, const crypto::SecretBytes& master_key) {
  if (options.storage == nullptr || options.sealer == nullptr) {
    return absl::InvalidArgumentError(
        "the signing key store needs a storage and a sealer");
  }
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> sealed,
                         options.storage->Get(storage::Family::kMeta, kKey));
  std::vector<std::string> earlier;
  std::unique_ptr<crypto::Ed25519Signer> signer;
  if (!sealed.has_value()) {
    HAVEN_ASSIGN_OR_RETURN(crypto::SecretBytes seed,
                           crypto::DeriveSigningSeed(master_key));
    HAVEN_ASSIGN_OR_RETURN(signer, crypto::Ed25519Signer::FromSeed(seed));
  } else {
    HAVEN_ASSIGN_OR_RETURN(
        std::string plain,
        options.sealer->Open(kPlace, *sealed, "the stored signing key"));
    haven::v1::StoredSigningKey stored;
    const bool parsed = stored.ParseFromString(plain);
    crypto::SecretBytes seed =
        crypto::SecretBytes::CopyFrom(std::span<const uint8_t>(
            reinterpret_cast<const uint8_t*>(stored.seed().data()),
            stored.seed().size()));
    // Wipe the plaintext copies; the seed lives on in SecretBytes only.
    crypto::WipeString(plain);
    crypto::WipeString(*stored.mutable_seed());
    if (!parsed || seed.size() != crypto::Ed25519Signer::kSeedSize) {
      return absl::DataLossError("the stored signing key is malformed");
    }
    HAVEN_ASSIGN_OR_RETURN(signer, crypto::Ed25519Signer::FromSeed(seed));
    earlier.assign(stored.earlier_verifier_keys().begin(),
                   stored.earlier_verifier_keys().end());
  }
  HAVEN_RETURN_IF_ERROR(VerifierKeyOf(*signer, options.origin).status());
  return std::unique_ptr<SigningKeyStore>(new SigningKeyStore(
      std::move(options), std::move(signer), std::move(earlier)));
}

std::string SigningKeyStore::VerifierKey() const {
  // The origin was checked at Open.
  return *VerifierKeyOf(*signer_, options_.origin);
}

std::vector<std::string> SigningKeyStore::EarlierVerifierKeys() const {
  absl::MutexLock lock(&mu_);
  return earlier_;
}

absl::StatusOr<SigningKeyStore::Rotated> SigningKeyStore::Rotate(
    const AuditRecorder& recorder, absl::string_view principal) {
  absl::MutexLock rotating(&rotate_mu_);
  crypto::SecretBytes seed =
      crypto::SecretBytes::Random(crypto::Ed25519Signer::kSeedSize);
  HAVEN_ASSIGN_OR_RETURN(std::unique_ptr<crypto::Ed25519Signer> next,
                         crypto::Ed25519Signer::FromSeed(seed));
  Rotated rotated;
  rotated.old_verifier_key = VerifierKey();
  HAVEN_ASSIGN_OR_RETURN(rotated.new_verifier_key,
                         VerifierKeyOf(*next, options_.origin));

  std::vector<std::string> earlier = EarlierVerifierKeys();
  earlier.push_back(rotated.old_verifier_key);
  if (earlier.size() > kMaxEarlierKeys) {
    earlier.erase(earlier.begin(),
                  earlier.begin() + (earlier.size() - kMaxEarlierKeys));
  }
  haven::v1::StoredSigningKey stored;
  stored.set_seed(reinterpret_cast<const char*>(seed.data()), seed.size());
  for (const std::string& key : earlier) stored.add_earlier_verifier_keys(key);
  std::string plain = stored.SerializeAsString();
  crypto::WipeString(*stored.mutable_seed());
  AuditLog::KeySwitch change;
  change.state.Put(storage::Family::kMeta, std::string(kKey),
                   options_.sealer->Seal(kPlace, plain));
  crypto::WipeString(plain);

  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::SIGNING_KEY_ROTATED);
  entry.set_detail("node signing key rotated");
  haven::v1::SigningKeySwitch* handover = entry.mutable_key_switch();
  handover->set_old_verifier_key(rotated.old_verifier_key);
  handover->set_new_verifier_key(rotated.new_verifier_key);
  // The old key vouches for its successor.
  handover->set_handover_signature(
      signer_->SignToString(client::KeySwitchMessage(
          rotated.old_verifier_key, rotated.new_verifier_key)));
  change.entry = recorder.Stamped(std::move(entry), principal, "");
  change.install = [this, seed = std::move(seed),
                    earlier = std::move(earlier)]() mutable {
    // Cannot fail: the seed made `next` above.
    (void)signer_->Replace(seed);
    absl::MutexLock lock(&mu_);
    earlier_ = std::move(earlier);
  };
  HAVEN_ASSIGN_OR_RETURN(rotated.audit_index,
                         recorder.log()->SwitchSigningKey(std::move(change)));
  return rotated;
}

}  // namespace haven::server::audit

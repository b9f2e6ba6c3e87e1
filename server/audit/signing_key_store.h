// SigningKeyStore: the node's signing key (checkpoints, receipts, answers,
// requests, cosignatures) and its rotation.
//
// A node that never rotated signs with the key derived from its master key
// (node_keys.h). Rotate makes a new random key and commits it, sealed
// (StateSealer) under kMeta "signing-key" together with the verifier keys
// it replaced, in one write with its SIGNING_KEY_ROTATED entry
// (AuditLog::SwitchSigningKey); the new key is put in force only once that
// write is durable. So a crash before the write leaves the old key in
// force and one after it the new key; there is never no key, and the key
// never reaches the disk unsealed. The entry names both keys and carries
// the old key's signature over the switch (client/verify/key_switch.h),
// so verifiers can follow it from either key.
//
// At most kMaxEarlierKeys earlier verifier keys are kept (the oldest is
// dropped): the node needs them only to recognise checkpoints it signed
// before, which peers and its side file hold for a short while.
//
// Thread-safe; rotations run one at a time.
#ifndef HAVEN_SERVER_AUDIT_SIGNING_KEY_STORE_H_
#define HAVEN_SERVER_AUDIT_SIGNING_KEY_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/audit/audit_recorder.h"
#include "server/crypto/ed25519_signer.h"
#include "server/crypto/secret_bytes.h"
#include "server/crypto/state_sealer.h"
#include "server/storage/storage.h"

namespace haven::server::audit {

class SigningKeyStore {
 public:
  static constexpr size_t kMaxEarlierKeys = 64;

  struct Options {
    // Borrowed; must outlive the store.
    storage::Storage* storage = nullptr;
    const crypto::StateSealer* sealer = nullptr;
    // The log's origin: the name of its verifier keys.
    std::string origin;
  };

  // Loads the stored key, or derives the first one from `master_key`.
  // DATA_LOSS if the stored key does not open (altered, or another node's).
  static absl::StatusOr<std::unique_ptr<SigningKeyStore>> Open(
      Options options, const crypto::SecretBytes& master_key);

  SigningKeyStore(const SigningKeyStore&) = delete;
  SigningKeyStore& operator=(const SigningKeyStore&) = delete;

  // The signer the node's modules borrow (for the store's life); Rotate
  // changes its key.
  crypto::Ed25519Signer* signer() const { return signer_.get(); }
  // The verifier key in force.
  std::string VerifierKey() const;
  // Verifier keys of the keys replaced, oldest first
  // (AuditLog::Options::earlier_verifier_keys).
  std::vector<std::string> EarlierVerifierKeys() const;

  struct Rotated {
    std::string old_verifier_key;
    std::string new_verifier_key;
    // Index of the SIGNING_KEY_ROTATED entry.
    uint64_t audit_index = 0;
  };
  // Makes, stores and puts in force a new key (see the class comment);
  // `principal` is logged as who rotated. `recorder` is the node's, over
  // the log that borrows signer(). UNAVAILABLE as AuditLog::Commit, the
  // old key in force then.
  absl::StatusOr<Rotated> Rotate(const AuditRecorder& recorder,
                                 absl::string_view principal);

 private:
  SigningKeyStore(Options options,
                  std::unique_ptr<crypto::Ed25519Signer> signer,
                  std::vector<std::string> earlier)
      : options_(std::move(options)),
        signer_(std::move(signer)),
        earlier_(std::move(earlier)) {}

  // Constant after construction.
  const Options options_;
  const std::unique_ptr<crypto::Ed25519Signer> signer_;

  // Held for a whole rotation: one at a time.
  absl::Mutex rotate_mu_;
  mutable absl::Mutex mu_;
  std::vector<std::string> earlier_ ABSL_GUARDED_BY(mu_);
};

}  // namespace haven::server::audit

#endif  // HAVEN_SERVER_AUDIT_SIGNING_KEY_STORE_H_

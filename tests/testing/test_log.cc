#include "tests/testing/test_log.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "haven/base/status_macros.h"
#include "server/crypto/node_keys.h"

namespace haven::testing {

absl::StatusOr<std::unique_ptr<TestLog>> TestLog::Create(std::string agency) {
  std::unique_ptr<TestLog> t(new TestLog());
  t->agency_ = std::move(agency);
  t->master_key_ = server::crypto::SecretBytes(32);
  for (size_t i = 0; i < 32; ++i) {
    t->master_key_.mutable_data()[i] =
        static_cast<uint8_t>(i + t->agency_.size());
  }
  HAVEN_ASSIGN_OR_RETURN(auto seed,
                         server::crypto::DeriveSigningSeed(t->master_key_));
  HAVEN_ASSIGN_OR_RETURN(t->signer_,
                         server::crypto::Ed25519Signer::FromSeed(seed));
  HAVEN_ASSIGN_OR_RETURN(t->pseudonym_key_,
                         server::crypto::DerivePseudonymKey(t->master_key_));
  HAVEN_ASSIGN_OR_RETURN(t->sealer_,
                         server::crypto::StateSealer::Create(t->master_key_));
  t->storage_ = std::make_unique<FaultInjectingStorage>();
  HAVEN_RETURN_IF_ERROR(t->Open());
  return t;
}

absl::Status TestLog::Open() {
  server::audit::AuditLog::Options options;
  options.origin = absl::StrCat(agency_, ".haven/log");
  options.agency_id = agency_;
  options.signer = signer_.get();
  options.sealer = sealer_.get();
  options.storage = storage_.get();
  options.clock = &clock_;
  HAVEN_ASSIGN_OR_RETURN(log_, server::audit::AuditLog::Open(options));
  recorder_ = std::make_unique<server::audit::AuditRecorder>(
      agency_, log_.get(), &pseudonym_key_, &clock_);
  return absl::OkStatus();
}

void TestLog::Close() {
  recorder_.reset();
  log_.reset();
}

absl::Status TestLog::Restart(FaultInjectingStorage::Unsynced unsynced) {
  Close();
  storage_ = storage_->Restart(unsynced);
  return Open();
}

}  // namespace haven::testing

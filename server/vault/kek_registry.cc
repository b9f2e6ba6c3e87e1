#include "server/vault/kek_registry.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "haven/base/status_macros.h"
#include "server/crypto/digest.h"
#include "server/crypto/key_derivation.h"

namespace haven::server::vault {
namespace {

using storage::Family;

constexpr char kCheckKey[] = "vault/kcv";
constexpr char kRegistryKey[] = "vault/keks";
constexpr absl::string_view kCheckMagic = "HVKC\x01";
constexpr uint8_t kRegistryFormat = 1;

// Key check value record: magic | kcv | sha256(magic | kcv). The checksum
// tells a damaged record (DATA_LOSS) from a different key (intact record,
// other value).
std::string EncodeCheck(absl::string_view kcv) {
  std::string body = absl::StrCat(kCheckMagic, kcv);
  return absl::StrCat(body, crypto::Sha256(body));
}

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
bool GetU32(absl::string_view& in, uint32_t& v) {
  if (in.size() < 4) return false;
  v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  }
  in.remove_prefix(4);
  return true;
}

}  // namespace

KekRegistry::KekRegistry(Options options)
    : storage_(options.storage), master_key_(std::move(options.master_key)) {}

absl::StatusOr<std::unique_ptr<KekRegistry>> KekRegistry::Open(
    Options options) {
  if (options.storage == nullptr) {
    return absl::InvalidArgumentError("KekRegistry needs a storage");
  }
  std::unique_ptr<KekRegistry> registry(new KekRegistry(std::move(options)));
  HAVEN_RETURN_IF_ERROR(registry->Load());
  return registry;
}

absl::Status KekRegistry::Load() {
  HAVEN_ASSIGN_OR_RETURN(std::string kcv, crypto::KeyCheckValue(master_key_));
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> check_value,
                         storage_->Get(Family::kMeta, kCheckKey));
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> registry_value,
                         storage_->Get(Family::kMeta, kRegistryKey));
  const bool has_check = check_value.has_value();
  const bool has_registry = registry_value.has_value();
  const std::string check = check_value.value_or("");
  const std::string registry = registry_value.value_or("");

  absl::MutexLock lock(&mu_);
  if (!has_check && !has_registry) {
    // A new vault, unless records are already there without their keys.
    bool any = false;
    HAVEN_RETURN_IF_ERROR(storage_->Scan(
        Family::kVault, "", [&](absl::string_view, absl::string_view) {
          any = true;
          return false;
        }));
    if (any) {
      return absl::DataLossError(
          "the data dir holds vault data but no key check value or key "
          "registry");
    }
    std::map<uint32_t, State> states = {{1, State::kLive}};
    storage::WriteBatch batch = Persist(1, states);
    batch.Put(Family::kMeta, kCheckKey, EncodeCheck(kcv));
    HAVEN_RETURN_IF_ERROR(storage_->Write(batch, /*sync=*/true));
    active_ = 1;
    states_ = std::move(states);
    return absl::OkStatus();
  }
  if (!has_check || !has_registry) {
    return absl::DataLossError(
        absl::StrCat("the data dir has ",
                     has_check ? "a key check value but no key registry"
                               : "a key registry but no key check value",
                     "; the database is damaged"));
  }

  const size_t body = kCheckMagic.size() + crypto::kKeyCheckValueSize;
  absl::string_view stored(check);
  if (stored.size() != body + 32 ||
      stored.substr(0, kCheckMagic.size()) != kCheckMagic ||
      !crypto::ConstantTimeEquals(crypto::Sha256(stored.substr(0, body)),
                                  stored.substr(body))) {
    return absl::DataLossError(
        "the key check value in the data dir is damaged; the database is "
        "corrupt");
  }
  if (!crypto::ConstantTimeEquals(
          stored.substr(kCheckMagic.size(), crypto::kKeyCheckValueSize), kcv)) {
    return absl::FailedPreconditionError(
        "master key does not match this data dir; start the node with the "
        "master key this data dir was created with");
  }

  absl::string_view in(registry);
  auto damaged = [] {
    return absl::DataLossError(
        "the key-encryption key registry in the data dir is damaged");
  };
  uint32_t active = 0, count = 0;
  if (in.empty() || static_cast<uint8_t>(in[0]) != kRegistryFormat) {
    return damaged();
  }
  in.remove_prefix(1);
  if (!GetU32(in, active) || !GetU32(in, count) || in.size() != 5ull * count) {
    return damaged();
  }
  std::map<uint32_t, State> states;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t version = 0;
    GetU32(in, version);
    auto state = static_cast<State>(static_cast<uint8_t>(in[0]));
    in.remove_prefix(1);
    if (version == 0 || (state != State::kLive && state != State::kRetired) ||
        !states.emplace(version, state).second) {
      return damaged();
    }
  }
  auto it = states.find(active);
  if (it == states.end() || it->second != State::kLive) return damaged();
  active_ = active;
  states_ = std::move(states);
  return absl::OkStatus();
}

storage::WriteBatch KekRegistry::Persist(
    uint32_t active, const std::map<uint32_t, State>& states) {
  std::string encoded;
  encoded.push_back(static_cast<char>(kRegistryFormat));
  PutU32(encoded, active);
  PutU32(encoded, static_cast<uint32_t>(states.size()));
  for (const auto& [version, state] : states) {
    PutU32(encoded, version);
    encoded.push_back(static_cast<char>(state));
  }
  storage::WriteBatch batch;
  batch.Put(Family::kMeta, kRegistryKey, std::move(encoded));
  return batch;
}

uint32_t KekRegistry::active_version() const {
  absl::MutexLock lock(&mu_);
  return active_;
}

std::vector<uint32_t> KekRegistry::VersionsIn(State wanted) const {
  absl::MutexLock lock(&mu_);
  std::vector<uint32_t> out;
  for (const auto& [v, state] : states_) {
    if (state == wanted) out.push_back(v);
  }
  return out;
}

std::vector<uint32_t> KekRegistry::live_versions() const {
  return VersionsIn(State::kLive);
}

std::vector<uint32_t> KekRegistry::retired_versions() const {
  return VersionsIn(State::kRetired);
}

absl::StatusOr<std::shared_ptr<const crypto::SecretBytes>> KekRegistry::Kek(
    uint32_t version) const {
  absl::MutexLock lock(&mu_);
  auto it = states_.find(version);
  if (it == states_.end()) {
    return absl::DataLossError(
        absl::StrCat("stored data refers to key-encryption key version ",
                     version, ", which this data dir never had"));
  }
  if (it->second == State::kRetired) {
    return absl::FailedPreconditionError(
        absl::StrCat("key-encryption key version ", version,
                     " is retired and can no longer unwrap data keys"));
  }
  auto cached = keks_.find(version);
  if (cached != keks_.end()) return cached->second;
  HAVEN_ASSIGN_OR_RETURN(crypto::SecretBytes kek,
                         crypto::DeriveKek(master_key_, version));
  auto shared = std::make_shared<const crypto::SecretBytes>(std::move(kek));
  keks_.emplace(version, shared);
  return shared;
}

uint32_t KekRegistry::NextVersion() const {
  absl::MutexLock lock(&mu_);
  return states_.empty() ? 1 : states_.rbegin()->first + 1;
}

absl::StatusOr<uint32_t> KekRegistry::AddVersion(CommitFn commit) {
  absl::MutexLock lock(&mu_);
  uint32_t next = states_.empty() ? 1 : states_.rbegin()->first + 1;
  std::map<uint32_t, State> states = states_;
  states[next] = State::kLive;
  HAVEN_RETURN_IF_ERROR(commit(Persist(next, states)));
  states_ = std::move(states);
  active_ = next;
  return next;
}

absl::Status KekRegistry::Retire(uint32_t version, CommitFn commit) {
  absl::MutexLock lock(&mu_);
  auto it = states_.find(version);
  if (it == states_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no key-encryption key version ", version));
  }
  if (version == active_) {
    return absl::FailedPreconditionError(
        absl::StrCat("key-encryption key version ", version,
                     " is the active version; rotate to a new version first"));
  }
  if (it->second == State::kRetired) return absl::OkStatus();
  std::map<uint32_t, State> states = states_;
  states[version] = State::kRetired;
  HAVEN_RETURN_IF_ERROR(commit(Persist(active_, states)));
  states_ = std::move(states);
  keks_.erase(version);  // wiped once the last user lets go
  return absl::OkStatus();
}

}  // namespace haven::server::vault

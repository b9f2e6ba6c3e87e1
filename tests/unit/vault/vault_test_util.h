// Helpers shared by the vault tests: a temp data dir, a database opened the
// way the node opens it (compression off, so scans of the files see exactly
// what was stored), master keys, and a scan of every file under a dir.
#ifndef HAVEN_TESTS_UNIT_VAULT_VAULT_TEST_UTIL_H_
#define HAVEN_TESTS_UNIT_VAULT_VAULT_TEST_UTIL_H_

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "haven/base/status_macros.h"
#include "server/crypto/master_key.h"
#include "server/crypto/secret_bytes.h"
#include "server/storage/rocksdb_storage.h"
#include "server/vault/record_vault.h"

namespace haven::server::vault::testing {

// A fresh directory, removed with its contents on destruction.
class ScopedTempDir {
 public:
  ScopedTempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base ? base : "/tmp") +
        "/haven-vault-test-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScopedTempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The node's storage on a RocksDB in `path`, without compression so scans
// of the files see exactly what was stored.
inline std::unique_ptr<storage::RocksDbStorage> OpenStorage(
    const std::string& path) {
  storage::Database::Options options;
  options.path = path;
  options.rocksdb_options.compression = rocksdb::kNoCompression;
  auto opened = storage::RocksDbStorage::Open(options);
  EXPECT_TRUE(opened.ok()) << opened.status();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

// Flushes every family's memtable to SST files.
inline absl::Status FlushAll(storage::Database& db) {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> all;
  for (int i = 0; i < storage::kFamilyCount; ++i) {
    all.push_back(db.family(static_cast<storage::Family>(i)));
  }
  return storage::FromRocksDb(db.db()->Flush(flush, all), "flush");
}

// The vault with every change committed straight to its storage (synced,
// no audit entry): the vault's own tests need no audit log.
class DirectVault {
 public:
  static absl::StatusOr<std::unique_ptr<DirectVault>> Create(
      RecordVault::Options options) {
    storage::Storage* storage = options.storage;
    HAVEN_ASSIGN_OR_RETURN(auto vault, RecordVault::Create(std::move(options)));
    return std::unique_ptr<DirectVault>(
        new DirectVault(std::move(vault), storage));
  }

  absl::StatusOr<std::string> CreateSubject() {
    return vault_->CreateSubject(
        [this](storage::WriteBatch b, const std::string&) {
          return Commit(std::move(b));
        });
  }
  absl::StatusOr<RecordVault::PutResult> Put(
      absl::string_view subject, absl::string_view record,
      const google::protobuf::RepeatedPtrField<haven::v1::Field>& fields) {
    return vault_->Put(
        subject, record, fields,
        [this](storage::WriteBatch b, const RecordVault::PutResult&) {
          return Commit(std::move(b));
        });
  }
  absl::StatusOr<uint64_t> Erase(absl::string_view subject) {
    return vault_->Erase(subject, [this](storage::WriteBatch b, uint64_t) {
      return Commit(std::move(b));
    });
  }
  absl::StatusOr<uint64_t> RotateKek() {
    return vault_->RotateKek([this](storage::WriteBatch b, uint32_t) {
      return Commit(std::move(b));
    });
  }
  absl::Status RetireKek(uint32_t version) {
    return vault_->RetireKek(version, [this](storage::WriteBatch b) {
      return Commit(std::move(b));
    });
  }
  absl::StatusOr<haven::v1::Record> Get(absl::string_view subject,
                                        absl::string_view record) const {
    return vault_->Get(subject, record);
  }
  absl::StatusOr<std::vector<haven::v1::Record>> List(
      absl::string_view subject) const {
    return vault_->List(subject);
  }
  RecordVault::KekStatus kek_status() const { return vault_->kek_status(); }
  RecordVault& vault() { return *vault_; }

 private:
  DirectVault(std::unique_ptr<RecordVault> vault, storage::Storage* storage)
      : vault_(std::move(vault)), storage_(storage) {}
  absl::Status Commit(storage::WriteBatch batch) {
    return storage_->Write(batch, /*sync=*/true);
  }

  std::unique_ptr<RecordVault> vault_;
  storage::Storage* storage_;
};

// A fixed, distinct master key per `seed`.
inline crypto::SecretBytes TestMasterKey(uint8_t seed) {
  std::vector<uint8_t> bytes(crypto::kMasterKeySize);
  for (size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<uint8_t>(seed * 31 + i);
  }
  return crypto::SecretBytes::CopyFrom(bytes);
}

inline std::string ReadFileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Paths of the regular files under `dir` (recursively) that contain `needle`.
inline std::vector<std::string> FilesContaining(const std::string& dir,
                                                absl::string_view needle) {
  std::vector<std::string> hits;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::string bytes = ReadFileBytes(entry.path());
    if (bytes.find(needle.data(), 0, needle.size()) != std::string::npos) {
      hits.push_back(entry.path().string());
    }
  }
  return hits;
}

// Number of regular files under `dir`, recursively.
inline size_t CountFiles(const std::string& dir) {
  size_t n = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) ++n;
  }
  return n;
}

}  // namespace haven::server::vault::testing

#endif  // HAVEN_TESTS_UNIT_VAULT_VAULT_TEST_UTIL_H_

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
#include "server/crypto/master_key.h"
#include "server/crypto/secret_bytes.h"
#include "server/storage/database.h"

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

inline std::unique_ptr<storage::Database> OpenDatabase(
    const std::string& path) {
  storage::Database::Options options;
  options.path = path;
  options.rocksdb_options.compression = rocksdb::kNoCompression;
  auto db = storage::Database::Open(options);
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? std::move(db).value() : nullptr;
}

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

// Master key files, key derivation and AEAD of server/crypto as the vault
// uses them.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/crypto/aead.h"
#include "server/crypto/key_derivation.h"
#include "server/crypto/master_key.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/vault/vault_test_util.h"

namespace haven::server::crypto {
namespace {

using ::haven::server::vault::testing::ReadFileBytes;
using ::haven::server::vault::testing::ScopedTempDir;
using ::haven::server::vault::testing::TestMasterKey;
using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kHex[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

void WriteFile(const std::string& path, const std::string& content,
               mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
  }
  ASSERT_EQ(chmod(path.c_str(), mode), 0);
}

TEST(MasterKeyTest, CreatedFileHasMode0600AndLoadsBack) {
  ScopedTempDir dir;
  std::string path = dir.Join("master.key");
  auto created = CreateMasterKeyFile(path);
  ASSERT_THAT(created, IsOk());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ReadFileBytes(path).size(), 65u);  // 64 hex + newline
  auto loaded = LoadMasterKeyFile(path);
  ASSERT_THAT(loaded, IsOk());
  EXPECT_TRUE(loaded->Equals(*created));
}

// A systemd credential named haven-master-key stands in for the key file
// when the config names none; the file wins when both exist.
TEST(MasterKeyTest, NodeKeyComesFromTheFileOrTheSystemdCredential) {
  ScopedTempDir dir;
  const std::string file = dir.Join("master.key");
  auto from_file = CreateMasterKeyFile(file);
  ASSERT_THAT(from_file, IsOk());
  const std::string credentials = dir.Join("credentials");
  ASSERT_EQ(mkdir(credentials.c_str(), 0700), 0);
  const std::string credential = credentials + "/" + kMasterKeyCredential;
  auto from_credential = CreateMasterKeyFile(credential);
  ASSERT_THAT(from_credential, IsOk());
  ASSERT_EQ(chmod(credential.c_str(), 0400), 0);

  auto loaded = LoadNodeMasterKey(file, credentials.c_str());
  ASSERT_THAT(loaded, IsOk());
  EXPECT_TRUE(loaded->Equals(*from_file));
  loaded = LoadNodeMasterKey("", credentials.c_str());
  ASSERT_THAT(loaded, IsOk());
  EXPECT_TRUE(loaded->Equals(*from_credential));

  // Group bits may carry systemd's ACL mask; "others" bits never.
  ASSERT_EQ(chmod(credential.c_str(), 0440), 0);
  EXPECT_THAT(LoadNodeMasterKey("", credentials.c_str()), IsOk());
  ASSERT_EQ(chmod(credential.c_str(), 0404), 0);
  EXPECT_THAT(LoadNodeMasterKey("", credentials.c_str()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("systemd credential haven-master-key")));

  EXPECT_THAT(LoadNodeMasterKey("", nullptr),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("LoadCredential=haven-master-key")));
  EXPECT_THAT(LoadNodeMasterKey("", dir.Join("none").c_str()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot open master key file")));
}

TEST(MasterKeyTest, CreateNeverOverwrites) {
  ScopedTempDir dir;
  std::string path = dir.Join("master.key");
  ASSERT_THAT(CreateMasterKeyFile(path), IsOk());
  std::string before = ReadFileBytes(path);
  auto again = CreateMasterKeyFile(path);
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(again.status().message(), HasSubstr(path));
  EXPECT_EQ(ReadFileBytes(path), before);
}

TEST(MasterKeyTest, GroupReadableFileIsRefusedWithReason) {
  ScopedTempDir dir;
  std::string path = dir.Join("master.key");
  WriteFile(path, std::string(kHex) + "\n", 0644);
  auto key = LoadMasterKeyFile(path);
  ASSERT_THAT(key, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(key.status().message(), HasSubstr(path));
  EXPECT_THAT(key.status().message(), HasSubstr("group or others"));
  EXPECT_THAT(key.status().message(), HasSubstr("0644"));
  EXPECT_THAT(key.status().message(), HasSubstr("chmod 600"));
  EXPECT_THAT(key.status().message(), Not(HasSubstr(kHex)));
}

TEST(MasterKeyTest, OtherWritableOrGroupOnlyModesAreRefused) {
  ScopedTempDir dir;
  std::string path = dir.Join("master.key");
  for (mode_t mode : {0640, 0602, 0610, 0604}) {
    WriteFile(path, kHex, mode);
    EXPECT_THAT(LoadMasterKeyFile(path),
                StatusIs(absl::StatusCode::kFailedPrecondition))
        << std::oct << mode;
  }
  WriteFile(path, kHex, 0400);
  EXPECT_THAT(LoadMasterKeyFile(path), IsOk());
}

TEST(MasterKeyTest, FileOwnedBySomeoneElseIsRefused) {
  ScopedTempDir dir;
  std::string path;
  uid_t owner;
  if (geteuid() == 0) {
    // Root can give a key file away.
    path = dir.Join("master.key");
    WriteFile(path, kHex, 0600);
    owner = 65534;
    ASSERT_EQ(chown(path.c_str(), owner, owner), 0);
  } else {
    // Anyone else cannot, so points the node at a readable file root owns.
    path = "/etc/passwd";
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    ASSERT_NE(st.st_uid, geteuid());
    owner = st.st_uid;
  }
  auto key = LoadMasterKeyFile(path);
  ASSERT_THAT(key, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(key.status().message(),
              HasSubstr(absl::StrCat("owned by uid ", owner)));
}

TEST(MasterKeyTest, SymlinkDirectoryAndMissingFileAreRefused) {
  ScopedTempDir dir;
  std::string real = dir.Join("real.key");
  WriteFile(real, kHex, 0600);
  std::string link = dir.Join("link.key");
  ASSERT_EQ(symlink(real.c_str(), link.c_str()), 0);
  auto via_link = LoadMasterKeyFile(link);
  EXPECT_THAT(via_link, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(via_link.status().message(), HasSubstr("symbolic link"));

  auto directory = LoadMasterKeyFile(dir.path());
  EXPECT_THAT(directory, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(directory.status().message(), HasSubstr("not a regular file"));

  auto missing = LoadMasterKeyFile(dir.Join("none.key"));
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(missing.status().message(), HasSubstr("none.key"));
}

TEST(MasterKeyTest, MalformedContentIsRefusedWithoutEchoingIt) {
  ScopedTempDir dir;
  std::string path = dir.Join("master.key");
  const std::string bad[] = {
      std::string(kHex).substr(0, 62),           // short
      std::string(kHex) + "00",                  // long
      std::string(kHex).substr(0, 60) + "zzzz",  // not hex
      std::string(kHex) + "\n\n",                // two newlines
      "correct horse battery staple correct horse battery staple 1234",
  };
  for (const std::string& content : bad) {
    WriteFile(path, content, 0600);
    auto key = LoadMasterKeyFile(path);
    ASSERT_THAT(key, StatusIs(absl::StatusCode::kFailedPrecondition))
        << content;
    EXPECT_THAT(key.status().message(), HasSubstr("malformed"));
    EXPECT_THAT(key.status().message(), Not(HasSubstr(content.substr(0, 16))));
  }
  WriteFile(path, kHex, 0600);  // no newline is fine
  EXPECT_THAT(LoadMasterKeyFile(path), IsOk());
}

TEST(MasterKeyTest, FromEnvParsesHexAndRefusesMalformed) {
  const char* var = "HAVEN_VAULT_TEST_MASTER_KEY";
  ASSERT_EQ(setenv(var, kHex, 1), 0);
  auto key = MasterKeyFromEnv(var);
  ASSERT_THAT(key, IsOk());
  EXPECT_EQ(MasterKeyToHex(*key), kHex);

  ASSERT_EQ(setenv(var, "secret-but-not-hex", 1), 0);
  auto bad = MasterKeyFromEnv(var);
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(bad.status().message(), Not(HasSubstr("secret-but-not-hex")));

  ASSERT_EQ(unsetenv(var), 0);
  EXPECT_THAT(MasterKeyFromEnv(var),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(KeyDerivationTest, KeksDifferByVersionAndMasterKey) {
  SecretBytes a = TestMasterKey(1);
  SecretBytes b = TestMasterKey(2);
  auto a1 = DeriveKek(a, 1);
  auto a1_again = DeriveKek(a, 1);
  auto a2 = DeriveKek(a, 2);
  auto b1 = DeriveKek(b, 1);
  ASSERT_THAT(a1, IsOk());
  ASSERT_THAT(a2, IsOk());
  ASSERT_THAT(b1, IsOk());
  EXPECT_TRUE(a1->Equals(*a1_again));
  EXPECT_FALSE(a1->Equals(*a2));
  EXPECT_FALSE(a1->Equals(*b1));
  EXPECT_THAT(DeriveKek(a, 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DeriveKek(SecretBytes(16), 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(KeyDerivationTest, KeyCheckValueIdentifiesTheKeyOnly) {
  auto a = KeyCheckValue(TestMasterKey(1));
  auto a_again = KeyCheckValue(TestMasterKey(1));
  auto b = KeyCheckValue(TestMasterKey(2));
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(*a, *a_again);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->size(), kKeyCheckValueSize);
  // It is not a KEK.
  auto kek = DeriveKek(TestMasterKey(1), 1);
  EXPECT_NE(
      *a, std::string(reinterpret_cast<const char*>(kek->data()), kek->size()));
}

TEST(AeadTest, OpensOnlyWithSameKeyAndAssociatedData) {
  SecretBytes key = SecretBytes::Random(kAeadKeySize);
  auto sealed = AeadSeal(key, "field value", "ad-1");
  ASSERT_THAT(sealed, IsOk());
  EXPECT_EQ(sealed->size(), 11 + kAeadOverhead);
  EXPECT_EQ(sealed->find("field value"), std::string::npos);
  auto opened = AeadOpen(key, *sealed, "ad-1");
  ASSERT_THAT(opened, IsOk());
  EXPECT_EQ(*opened, "field value");

  EXPECT_THAT(AeadOpen(key, *sealed, "ad-2"),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(AeadOpen(SecretBytes::Random(kAeadKeySize), *sealed, "ad-1"),
              StatusIs(absl::StatusCode::kDataLoss));
  for (size_t i = 0; i < sealed->size(); ++i) {
    std::string flipped = *sealed;
    flipped[i] ^= 0x01;
    EXPECT_THAT(AeadOpen(key, flipped, "ad-1"),
                StatusIs(absl::StatusCode::kDataLoss))
        << "byte " << i;
  }
  EXPECT_THAT(AeadOpen(key, sealed->substr(0, 10), "ad-1"),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(AeadSeal(SecretBytes(16), "x", ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(AeadTest, SameMessageSealsDifferentlyEachTime) {
  SecretBytes key = SecretBytes::Random(kAeadKeySize);
  auto one = AeadSeal(key, "same", "");
  auto two = AeadSeal(key, "same", "");
  ASSERT_THAT(one, IsOk());
  ASSERT_THAT(two, IsOk());
  EXPECT_NE(*one, *two);
}

TEST(AeadTest, SecretRoundTrip) {
  SecretBytes key = SecretBytes::Random(kAeadKeySize);
  SecretBytes data_key = SecretBytes::Random(32);
  auto sealed = AeadSealSecret(key, data_key, "subject");
  ASSERT_THAT(sealed, IsOk());
  auto opened = AeadOpenSecret(key, *sealed, "subject");
  ASSERT_THAT(opened, IsOk());
  EXPECT_TRUE(opened->Equals(data_key));
  EXPECT_THAT(AeadOpenSecret(key, *sealed, "other"),
              StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace haven::server::crypto

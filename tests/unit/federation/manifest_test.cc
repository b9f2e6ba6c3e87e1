#include "server/federation/manifest.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "client/verify/signed_note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace haven::server::federation {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::HasSubstr;

// A verifier key named `name` over 32 bytes of `fill`.
std::string KeyNamed(const std::string& name, char fill) {
  return *client::FormatVerifierKey(name, std::string(32, fill));
}

// A manifest of one member "safe-harbor" whose next_verifier_key is `next`.
std::string ManifestWithNextKey(const std::string& next) {
  return absl::StrCat(
      "federation: 'test' serial: 1 members { agency_id: 'safe-harbor' "
      "sector: VICTIM_SERVICES status: MEMBER_ACTIVE endpoint: "
      "'127.0.0.1:1' cert_sha256: '",
      std::string(64, 'a'), "' verifier_key: '",
      KeyNamed(client::LogOrigin("safe-harbor"), 'o'), "' next_verifier_key: '",
      next, "' }");
}

TEST(ManifestTest, NextVerifierKeyOfTheMembersLogIsTaken) {
  auto manifest = Manifest::Parse(
      ManifestWithNextKey(KeyNamed(client::LogOrigin("safe-harbor"), 'n')),
      "test");
  ASSERT_THAT(manifest.status(), IsOk());
  EXPECT_FALSE((*manifest)->Find("safe-harbor")->next_verifier_key().empty());
}

TEST(ManifestTest, NextVerifierKeyMustParseAndNameTheMembersLog) {
  EXPECT_THAT(
      Manifest::Parse(ManifestWithNextKey("not-a-key"), "test").status(),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("next_verifier_key")));
  // Another member's log name: it could pass for that member's key.
  EXPECT_THAT(Manifest::Parse(ManifestWithNextKey(
                                  KeyNamed(client::LogOrigin("metro-pd"), 'n')),
                              "test")
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("next_verifier_key")));
  EXPECT_THAT(Manifest::Parse(ManifestWithNextKey(KeyNamed(
                                  client::LogOrigin("safe-harbor"), 'o')),
                              "test")
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("same as verifier_key")));
}

}  // namespace
}  // namespace haven::server::federation

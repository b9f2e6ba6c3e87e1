// Manifest::Parse on what a rotation window adds to a member: its next
// certificate and its next log signing key.
#include "server/federation/manifest.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/verify/signed_note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace haven::server::federation {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string Fingerprint(int n) { return absl::StrFormat("%064x", n); }

// Two members; `next_a` and `next_b` go in their next_cert_sha256 when not
// empty. safe-harbor's cert_sha256 is Fingerprint(1), legal-aid's
// Fingerprint(2).
std::string ManifestText(const std::string& next_a,
                         const std::string& next_b = "") {
  auto member = [](const std::string& id, const std::string& sector, int n,
                   const std::string& next) {
    std::string text =
        absl::StrCat("members { agency_id: '", id, "' sector: ", sector,
                     " status: MEMBER_ACTIVE endpoint: '127.0.0.1:", 7000 + n,
                     "' cert_sha256: '", Fingerprint(n), "'");
    if (!next.empty())
      absl::StrAppend(&text, " next_cert_sha256: '", next, "'");
    return absl::StrCat(text, " }\n");
  };
  return absl::StrCat("federation: 'test' serial: 1\n",
                      member("safe-harbor", "VICTIM_SERVICES", 1, next_a),
                      member("legal-aid", "LEGAL_SERVICES", 2, next_b));
}

TEST(ManifestTest, NextCertificateIsOptional) {
  auto manifest = Manifest::Parse(ManifestText(""), "m");
  ASSERT_THAT(manifest, IsOk());
  EXPECT_TRUE((*manifest)->Find("safe-harbor")->next_cert_sha256().empty());
}

TEST(ManifestTest, NextCertificateIsKept) {
  auto manifest = Manifest::Parse(ManifestText(Fingerprint(3)), "m");
  ASSERT_THAT(manifest, IsOk());
  EXPECT_EQ((*manifest)->Find("safe-harbor")->next_cert_sha256(),
            Fingerprint(3));
}

TEST(ManifestTest, NextCertificateMustBeLowerCaseHex) {
  std::string upper = Fingerprint(3);
  upper[63] = 'A';
  for (const std::string& bad : {std::string("abc"), upper,
                                 Fingerprint(3) + "0", std::string(64, 'g')}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(Manifest::Parse(ManifestText(bad), "m"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("members[0] (safe-harbor)"),
                               HasSubstr("next_cert_sha256"),
                               HasSubstr("64 lower-case hex"))));
  }
}

TEST(ManifestTest, NextCertificateSameAsOwnCurrentIsRefused) {
  EXPECT_THAT(Manifest::Parse(ManifestText(Fingerprint(1)), "m"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("next_cert_sha256"),
                             HasSubstr("same as this member's cert_sha256"))));
}

TEST(ManifestTest, NextCertificateOfAnotherMembersCurrentIsRefused) {
  // legal-aid's next is safe-harbor's current.
  EXPECT_THAT(Manifest::Parse(ManifestText("", Fingerprint(1)), "m"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("members[1] (legal-aid)"),
                             HasSubstr("next_cert_sha256"),
                             HasSubstr("another member"))));
}

TEST(ManifestTest, CurrentCertificateOfAnotherMembersNextIsRefused) {
  // safe-harbor's next is legal-aid's current: found on legal-aid, which
  // comes later.
  EXPECT_THAT(
      Manifest::Parse(ManifestText(Fingerprint(2)), "m"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("members[1] (legal-aid)"),
                     HasSubstr("cert_sha256"), HasSubstr("another member"))));
}

TEST(ManifestTest, TwoMembersWithOneNextCertificateAreRefused) {
  EXPECT_THAT(
      Manifest::Parse(ManifestText(Fingerprint(5), Fingerprint(5)), "m"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("members[1] (legal-aid)"),
                     HasSubstr("next_cert_sha256"))));
}


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

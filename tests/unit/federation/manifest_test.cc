// Manifest::Parse on a member's next certificate (rotation window).
#include "server/federation/manifest.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

}  // namespace
}  // namespace haven::server::federation

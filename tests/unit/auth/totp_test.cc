#include "server/crypto/totp.h"

#include <span>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace haven::server::crypto {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

SecretBytes Secret(const std::string& s) {
  return SecretBytes::CopyFrom(Bytes(s));
}

// RFC 4226 appendix D: HOTP, secret "12345678901234567890", counters 0-9.
TEST(TotpTest, HotpMatchesRfc4226Vectors) {
  const std::string key = "12345678901234567890";
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (uint64_t counter = 0; counter < 10; ++counter) {
    EXPECT_EQ(HotpCode(Bytes(key), counter, 6), expected[counter]) << counter;
  }
}

// RFC 6238 appendix B, the SHA-1 rows (8 digits).
TEST(TotpTest, TotpMatchesRfc6238Sha1Vectors) {
  const std::string key = "12345678901234567890";
  const struct {
    int64_t time;
    const char* code;
  } vectors[] = {{59, "94287082"},         {1111111109, "07081804"},
                 {1111111111, "14050471"}, {1234567890, "89005924"},
                 {2000000000, "69279037"}, {20000000000, "65353130"}};
  for (const auto& v : vectors) {
    EXPECT_EQ(HotpCode(Bytes(key), TotpStep(v.time), 8), v.code) << v.time;
  }
}

TEST(TotpTest, AcceptsOneStepOfDriftEitherWayAndNoMore) {
  const SecretBytes secret = Secret("12345678901234567890");
  const int64_t now = 1'790'000'000;
  const uint64_t step = TotpStep(now);
  for (int64_t delta : {-1, 0, 1}) {
    std::string code = HotpCode(secret.span(), step + delta, 6);
    EXPECT_EQ(MatchTotp(secret, code, now, 0), step + delta) << delta;
  }
  for (int64_t delta : {-3, -2, 2, 3}) {
    std::string code = HotpCode(secret.span(), step + delta, 6);
    EXPECT_EQ(MatchTotp(secret, code, now, 0), std::nullopt) << delta;
  }
}

TEST(TotpTest, ACodeIsAcceptedOnceAndOlderCodesNever) {
  const SecretBytes secret = Secret("12345678901234567890");
  const int64_t now = 1'790'000'000;
  const uint64_t step = TotpStep(now);
  const std::string code = HotpCode(secret.span(), step, 6);
  std::optional<uint64_t> used = MatchTotp(secret, code, now, 0);
  ASSERT_EQ(used, step);
  // The same code again (a replay), and the code before it.
  EXPECT_EQ(MatchTotp(secret, code, now, *used), std::nullopt);
  EXPECT_EQ(MatchTotp(secret, HotpCode(secret.span(), step - 1, 6), now, *used),
            std::nullopt);
  // The next one is still good.
  EXPECT_EQ(MatchTotp(secret, HotpCode(secret.span(), step + 1, 6), now, *used),
            step + 1);
}

TEST(TotpTest, RefusesMalformedCodes) {
  const SecretBytes secret = Secret("12345678901234567890");
  const int64_t now = 1'790'000'000;
  const std::string code = HotpCode(secret.span(), TotpStep(now), 6);
  for (const std::string& bad : {std::string(), code.substr(0, 5), code + "0",
                                 " " + code, std::string("abcdef")}) {
    EXPECT_EQ(MatchTotp(secret, bad, now, 0), std::nullopt) << bad;
  }
}

// RFC 4648 section 10, without padding.
TEST(TotpTest, Base32MatchesRfc4648Vectors) {
  EXPECT_EQ(Base32Encode(Bytes("")), "");
  EXPECT_EQ(Base32Encode(Bytes("f")), "MY");
  EXPECT_EQ(Base32Encode(Bytes("fo")), "MZXQ");
  EXPECT_EQ(Base32Encode(Bytes("foo")), "MZXW6");
  EXPECT_EQ(Base32Encode(Bytes("foob")), "MZXW6YQ");
  EXPECT_EQ(Base32Encode(Bytes("fooba")), "MZXW6YTB");
  EXPECT_EQ(Base32Encode(Bytes("foobar")), "MZXW6YTBOI");
}

}  // namespace
}  // namespace haven::server::crypto

// Unit tests of haven-console's pieces that need no node or browser: the
// gRPC-to-HTTP status mapping, the session cookie, CSRF tokens, the
// static-file allowlist and the /api/call allowlist.
#include "client/console/console_server.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "client/console/csrf.h"
#include "client/console/node_bridge.h"
#include "client/console/static_files.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace haven::client::console {
namespace {

using haven::testing::TempDir;

TEST(ConsoleServerTest, GrpcCodesMapToHttpStatuses) {
  struct Case {
    grpc::StatusCode code;
    int http;
    const char* name;
  };
  for (const Case& c : {
           Case{grpc::StatusCode::OK, 200, "OK"},
           Case{grpc::StatusCode::UNAUTHENTICATED, 401, "UNAUTHENTICATED"},
           Case{grpc::StatusCode::PERMISSION_DENIED, 403, "PERMISSION_DENIED"},
           Case{grpc::StatusCode::NOT_FOUND, 404, "NOT_FOUND"},
           Case{grpc::StatusCode::INVALID_ARGUMENT, 400, "INVALID_ARGUMENT"},
           Case{grpc::StatusCode::FAILED_PRECONDITION, 409,
                "FAILED_PRECONDITION"},
           Case{grpc::StatusCode::RESOURCE_EXHAUSTED, 429,
                "RESOURCE_EXHAUSTED"},
           Case{grpc::StatusCode::UNAVAILABLE, 503, "UNAVAILABLE"},
           Case{grpc::StatusCode::INTERNAL, 502, "INTERNAL"},
           Case{grpc::StatusCode::DATA_LOSS, 502, "DATA_LOSS"},
       }) {
    EXPECT_EQ(HttpStatusFor(static_cast<int>(c.code)), c.http) << c.name;
    EXPECT_EQ(GrpcCodeName(static_cast<int>(c.code)), c.name);
  }
  EXPECT_EQ(GrpcCodeName(99), "UNKNOWN");
  EXPECT_EQ(HttpStatusFor(99), 502);
}

TEST(ConsoleServerTest, SessionTokenComesFromItsCookieOnly) {
  EXPECT_EQ(SessionTokenFromCookie(""), "");
  EXPECT_EQ(SessionTokenFromCookie("__Host-haven-session=abc"), "abc");
  EXPECT_EQ(SessionTokenFromCookie("a=1; __Host-haven-session=abc; b=2"),
            "abc");
  EXPECT_EQ(SessionTokenFromCookie("haven-session=abc"), "");
  EXPECT_EQ(SessionTokenFromCookie("x__Host-haven-session=abc"), "");
}

TEST(ConsoleServerTest, CsrfTokenIsBoundToSessionAndProcess) {
  auto guard = CsrfGuard::Create();
  ASSERT_TRUE(guard.ok());
  auto other = CsrfGuard::Create();
  ASSERT_TRUE(other.ok());
  const std::string token = (*guard)->TokenFor("session-a");
  EXPECT_EQ(token.size(), 64u);
  EXPECT_TRUE((*guard)->Check("session-a", token));
  EXPECT_FALSE((*guard)->Check("session-b", token));
  EXPECT_FALSE((*guard)->Check("session-a", ""));
  EXPECT_FALSE((*guard)->Check("session-a", token.substr(1)));
  std::string flipped = token;
  flipped[10] = flipped[10] == '0' ? '1' : '0';
  EXPECT_FALSE((*guard)->Check("session-a", flipped));
  // Another process (another key) makes other tokens.
  EXPECT_FALSE((*other)->Check("session-a", token));
}

TEST(ConsoleServerTest, StaticFilesAreAFixedAllowlist) {
  TempDir dir;
  std::filesystem::create_directories(dir.Join("js"));
  std::ofstream(dir.Join("index.html")) << "<!doctype html>";
  std::ofstream(dir.Join("js/api.js")) << "export {};";
  std::ofstream(dir.Join("notes.txt")) << "not served";
  std::ofstream(dir.Join(".env")) << "SECRET=1";
  std::filesystem::create_symlink("/etc/passwd", dir.Join("passwd.html"));
  auto files = StaticFiles::Load(dir.path());
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_NE((*files)->Find("/"), nullptr);
  EXPECT_EQ((*files)->Find("/")->content, "<!doctype html>");
  EXPECT_EQ((*files)->Find("/index.html")->content_type,
            "text/html; charset=utf-8");
  ASSERT_NE((*files)->Find("/js/api.js"), nullptr);
  EXPECT_EQ((*files)->Find("/js/api.js")->content_type,
            "text/javascript; charset=utf-8");
  EXPECT_EQ((*files)->Find("/notes.txt"), nullptr);
  EXPECT_EQ((*files)->Find("/.env"), nullptr);
  EXPECT_EQ((*files)->Find("/passwd.html"), nullptr);
  EXPECT_EQ((*files)->Find("/js/"), nullptr);
  EXPECT_EQ((*files)->Find("/../index.html"), nullptr);
  EXPECT_EQ((*files)->Find("/js/../index.html"), nullptr);
  // A file added after start is not served.
  std::ofstream(dir.Join("late.html")) << "late";
  EXPECT_EQ((*files)->Find("/late.html"), nullptr);
}

TEST(ConsoleServerTest, StaticDirWithoutIndexIsRefused) {
  TempDir dir;
  EXPECT_FALSE(StaticFiles::Load(dir.path()).ok());
  EXPECT_FALSE(StaticFiles::Load(dir.Join("missing")).ok());
}

TEST(ConsoleServerTest, OnlyAllowlistedUnaryMethodsAreCallable) {
  for (const char* method :
       {"haven.v1.RecordService/FindSubject",
        "haven.v1.RecordService/GetRecord",
        "haven.v1.ConsentService/RecordConsent",
        "haven.v1.ConsentService/RevokeConsent",
        "haven.v1.AuditService/SubjectAccessReport",
        "haven.v1.AuditService/GetInclusionProof",
        "haven.v1.ExchangeService/RequestDisclosure",
        "haven.v1.AdminService/ExplainDecision",
        "haven.v1.AdminService/GetStatus", "haven.v1.AuthService/WhoAmI"}) {
    const std::string m(method);
    const size_t slash = m.find('/');
    EXPECT_TRUE(NodeBridge::IsCallable(m.substr(0, slash), m.substr(slash + 1)))
        << method;
  }
  for (const char* method : {
           "haven.v1.RecordService/EraseSubject",
           "haven.v1.AuditService/Follow",  // a stream
           "haven.v1.ExchangeService/WatchNotices",
           "haven.v1.AdminService/LoadPolicy",
           "haven.v1.AdminService/Backup",
           "haven.v1.AuthService/SignIn",
           "haven.v1.AuthService/AddUser",
           "haven.v1.AuthService/ResetUser",
           "haven.v1.PeerService/Disclose",
           "haven.v1.ConsentService/NoSuchMethod",
           "grpc.health.v1.Health/Check",
       }) {
    const std::string m(method);
    const size_t slash = m.find('/');
    EXPECT_FALSE(
        NodeBridge::IsCallable(m.substr(0, slash), m.substr(slash + 1)))
        << method;
  }
}

}  // namespace
}  // namespace haven::client::console

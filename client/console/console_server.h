// ConsoleServer: haven-console's HTTPS server (cpp-httplib's SSLServer).
// Serves the static pages and the small JSON API the pages use (README,
// "Console"), and passes each API call to the node through NodeBridge with
// the session token from the person's cookie. Holds no node secret: only
// its own HTTPS key, the node's CA certificate, and for each request the
// caller's session token (never logged, never in a response body or URL).
//
// Thread-safe: requests are served on httplib's thread pool; the server's
// state is constant after Create.
#ifndef HAVEN_CLIENT_CONSOLE_CONSOLE_SERVER_H_
#define HAVEN_CLIENT_CONSOLE_CONSOLE_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/console/csrf.h"
#include "client/console/node_bridge.h"
#include "client/console/static_files.h"

namespace httplib {
class SSLServer;
struct Request;
struct Response;
}  // namespace httplib

namespace haven::client::console {

struct ConsoleOptions {
  // host:port to listen on (port 0 picks a free port).
  std::string listen = "127.0.0.1:8443";
  // The console's own HTTPS certificate chain and key (PEM).
  std::string tls_cert;
  std::string tls_key;
  // The node's checkpoint verifier keys, served as they are to the pages.
  std::vector<std::string> verifier_keys;
};

class ConsoleServer {
 public:
  // FAILED_PRECONDITION for an unreadable certificate or key,
  // UNAVAILABLE when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<ConsoleServer>> Create(
      ConsoleOptions options, std::unique_ptr<NodeBridge> node,
      std::unique_ptr<StaticFiles> files);
  ~ConsoleServer();

  // host:port actually bound.
  const std::string& address() const { return address_; }
  // Serves until Stop(); false if the server failed.
  bool Run();
  void Stop();

 private:
  ConsoleServer(ConsoleOptions options, std::unique_ptr<NodeBridge> node,
                std::unique_ptr<StaticFiles> files,
                std::unique_ptr<CsrfGuard> csrf);
  void Routes();

  // Refuses (403/415) a POST from another origin or without a JSON body;
  // with `need_csrf`, also one without the session's CSRF token. Sets the
  // refusal on `response` and returns false.
  bool AcceptPost(const httplib::Request& request, httplib::Response& response,
                  bool need_csrf) const;

  void Session(const httplib::Request& request,
               httplib::Response& response) const;
  void SignIn(const httplib::Request& request,
              httplib::Response& response) const;
  void SignOut(const httplib::Request& request,
               httplib::Response& response) const;
  void Enrol(const std::string& method, const httplib::Request& request,
             httplib::Response& response) const;
  void Call(const httplib::Request& request, httplib::Response& response) const;

  // Constant after construction.
  const ConsoleOptions options_;
  const std::unique_ptr<NodeBridge> node_;
  const std::unique_ptr<StaticFiles> files_;
  const std::unique_ptr<CsrfGuard> csrf_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::string address_;
};

// The HTTP status for a gRPC code (README, "Console").
int HttpStatusFor(int grpc_code);
// The gRPC code's name ("PERMISSION_DENIED").
std::string GrpcCodeName(int grpc_code);
// The session token in a Cookie header, or "" if none.
std::string SessionTokenFromCookie(const std::string& cookie_header);

}  // namespace haven::client::console

#endif  // HAVEN_CLIENT_CONSOLE_CONSOLE_SERVER_H_

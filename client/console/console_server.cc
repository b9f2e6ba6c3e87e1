#include "client/console/console_server.h"

#include <csignal>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "haven/v1/auth.pb.h"
#include "httplib.h"

namespace haven::client::console {

namespace {

namespace pb = google::protobuf;

constexpr char kCookieName[] = "__Host-haven-session";
constexpr char kCsrfHeader[] = "X-Haven-CSRF";
constexpr char kJson[] = "application/json";
// Largest request body: consent forms and records are far smaller.
constexpr size_t kMaxBodyBytes = 1 << 20;
constexpr int kThreads = 8;
constexpr int kIoTimeoutSeconds = 30;

std::string JsonObject(const pb::Struct& object) {
  std::string json;
  if (!pb::util::MessageToJsonString(object, &json).ok()) return "{}";
  return json;
}

void SendError(httplib::Response& response, int grpc_code,
               const std::string& message) {
  pb::Struct body;
  (*body.mutable_fields())["code"].set_string_value(GrpcCodeName(grpc_code));
  (*body.mutable_fields())["message"].set_string_value(message);
  response.status = HttpStatusFor(grpc_code);
  response.set_content(JsonObject(body), kJson);
}

void SendAnswer(httplib::Response& response, const NodeAnswer& answer) {
  if (!answer.status.ok()) {
    SendError(response, answer.status.error_code(),
              answer.status.error_message());
    return;
  }
  response.status = 200;
  response.set_content(answer.json, kJson);
}

std::string SessionCookie(const std::string& token) {
  return absl::StrCat(kCookieName, "=", token,
                      "; Path=/; Secure; HttpOnly; SameSite=Strict");
}

std::string ClearedCookie() {
  return absl::StrCat(kCookieName,
                      "=; Path=/; Secure; HttpOnly; SameSite=Strict; "
                      "Max-Age=0");
}

// A token the node made, checked before it goes into a Set-Cookie header.
bool CookieSafe(const std::string& token) {
  if (token.empty() || token.size() > 512) return false;
  for (char c : token) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        std::string_view("-_.~+/=").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// The JSON of `whoami` with "csrfToken" added.
std::string SessionJson(const std::string& whoami_json,
                        const std::string& csrf_token) {
  pb::Struct object;
  if (!pb::util::JsonStringToMessage(whoami_json, &object).ok()) {
    object.Clear();
  }
  (*object.mutable_fields())["csrfToken"].set_string_value(csrf_token);
  return JsonObject(object);
}

}  // namespace

int HttpStatusFor(int grpc_code) {
  switch (static_cast<grpc::StatusCode>(grpc_code)) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 503;
    default:
      return 502;
  }
}

std::string GrpcCodeName(int grpc_code) {
  static const char* const kNames[] = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED",
  };
  if (grpc_code < 0 || grpc_code >= static_cast<int>(std::size(kNames))) {
    return "UNKNOWN";
  }
  return kNames[grpc_code];
}

std::string SessionTokenFromCookie(const std::string& cookie_header) {
  const std::string prefix = absl::StrCat(kCookieName, "=");
  for (absl::string_view part : absl::StrSplit(cookie_header, ';')) {
    absl::string_view trimmed = absl::StripAsciiWhitespace(part);
    if (absl::ConsumePrefix(&trimmed, prefix)) return std::string(trimmed);
  }
  return "";
}

absl::StatusOr<std::unique_ptr<ConsoleServer>> ConsoleServer::Create(
    ConsoleOptions options, std::unique_ptr<NodeBridge> node,
    std::unique_ptr<StaticFiles> files) {
  const size_t colon = options.listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(options.listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listen address '", options.listen, "': expected host:port"));
  }
  std::string host = options.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto csrf = CsrfGuard::Create();
  if (!csrf.ok()) return csrf.status();

  // A browser that hangs up mid-response must not end the process.
  std::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<ConsoleServer> console(new ConsoleServer(
      std::move(options), std::move(node), std::move(files), std::move(*csrf)));
  console->server_ = std::make_unique<httplib::SSLServer>(
      console->options_.tls_cert.c_str(), console->options_.tls_key.c_str());
  if (!console->server_->is_valid()) {
    return absl::FailedPreconditionError(
        "cannot load the console's TLS certificate and key (--tls-cert, "
        "--tls-key)");
  }
  console->Routes();
  httplib::SSLServer& server = *console->server_;
  server.set_socket_options([](socket_t socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  const int bound = port == 0 ? server.bind_to_any_port(host)
                              : (server.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", console->options_.listen, ": address in use"));
  }
  console->address_ =
      absl::StrCat(console->options_.listen.substr(0, colon), ":", bound);
  return console;
}

ConsoleServer::ConsoleServer(ConsoleOptions options,
                             std::unique_ptr<NodeBridge> node,
                             std::unique_ptr<StaticFiles> files,
                             std::unique_ptr<CsrfGuard> csrf)
    : options_(std::move(options)),
      node_(std::move(node)),
      files_(std::move(files)),
      csrf_(std::move(csrf)) {}

ConsoleServer::~ConsoleServer() = default;

bool ConsoleServer::Run() { return server_->listen_after_bind(); }

void ConsoleServer::Stop() { server_->stop(); }

void ConsoleServer::Routes() {
  httplib::SSLServer& server = *server_;
  server.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  server.set_payload_max_length(kMaxBodyBytes);
  server.set_read_timeout(kIoTimeoutSeconds, 0);
  server.set_write_timeout(kIoTimeoutSeconds, 0);
  server.set_default_headers({
      {"Cache-Control", "no-store"},
      {"Content-Security-Policy",
       "default-src 'self'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'; object-src 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"Strict-Transport-Security", "max-age=31536000"},
      {"X-Frame-Options", "DENY"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
  });
  // One line per request: method, path (never a query, body or cookie) and
  // status. API paths name only methods, never a subject or a token.
  server.set_logger([](const httplib::Request& request,
                       const httplib::Response& response) {
    std::fprintf(stderr, "haven-console: %s %s %d\n", request.method.c_str(),
                 request.path.c_str(), response.status);
  });
  server.set_error_handler(
      [](const httplib::Request& request, httplib::Response& response) {
        if (!response.body.empty()) return;
        if (absl::StartsWith(request.path, "/api/")) {
          const int code =
              response.status == 413
                  ? static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED)
                  : static_cast<int>(grpc::StatusCode::NOT_FOUND);
          const int status = response.status;
          SendError(response, code,
                    status == 413 ? "the request is too large" : "not found");
          response.status = status;
        } else {
          response.set_content("Not found.\n", "text/plain; charset=utf-8");
        }
      });

  server.Get("/api/session", [this](const httplib::Request& request,
                                    httplib::Response& response) {
    Session(request, response);
  });
  server.Get("/api/verifier-keys", [this](const httplib::Request&,
                                          httplib::Response& response) {
    pb::Struct body;
    pb::ListValue* keys = (*body.mutable_fields())["keys"].mutable_list_value();
    for (const std::string& key : options_.verifier_keys) {
      keys->add_values()->set_string_value(key);
    }
    response.set_content(JsonObject(body), kJson);
  });
  server.Post("/api/sign-in", [this](const httplib::Request& request,
                                     httplib::Response& response) {
    if (AcceptPost(request, response, false)) SignIn(request, response);
  });
  server.Post("/api/sign-out", [this](const httplib::Request& request,
                                      httplib::Response& response) {
    if (AcceptPost(request, response, true)) SignOut(request, response);
  });
  server.Post("/api/enrol/begin", [this](const httplib::Request& request,
                                         httplib::Response& response) {
    if (AcceptPost(request, response, false)) {
      Enrol("BeginEnrolment", request, response);
    }
  });
  server.Post("/api/enrol/confirm", [this](const httplib::Request& request,
                                           httplib::Response& response) {
    if (AcceptPost(request, response, false)) {
      Enrol("ConfirmEnrolment", request, response);
    }
  });
  server.Post(R"(/api/call/([A-Za-z0-9_.]+)/([A-Za-z0-9_]+))",
              [this](const httplib::Request& request,
                     httplib::Response& response) { Call(request, response); });
  server.Get(R"(/.*)", [this](const httplib::Request& request,
                              httplib::Response& response) {
    const StaticFile* file = files_->Find(request.path);
    if (file == nullptr) {
      response.status = 404;
      return;
    }
    response.set_content(file->content, file->content_type);
  });
}

bool ConsoleServer::AcceptPost(const httplib::Request& request,
                               httplib::Response& response,
                               bool need_csrf) const {
  const int denied = static_cast<int>(grpc::StatusCode::PERMISSION_DENIED);
  if (request.has_header("Origin")) {
    const std::string origin = request.get_header_value("Origin");
    const std::string own =
        absl::StrCat("https://", request.get_header_value("Host"));
    if (origin != own) {
      SendError(response, denied, "this request came from another site");
      return false;
    }
  }
  if (request.has_header("Sec-Fetch-Site")) {
    const std::string site = request.get_header_value("Sec-Fetch-Site");
    if (site != "same-origin" && site != "none") {
      SendError(response, denied, "this request came from another site");
      return false;
    }
  }
  const std::string type = request.get_header_value("Content-Type");
  if (type != kJson && !absl::StartsWith(type, "application/json;")) {
    SendError(response, static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT),
              "the request must be JSON (Content-Type: application/json)");
    response.status = 415;
    return false;
  }
  if (need_csrf) {
    const std::string token =
        SessionTokenFromCookie(request.get_header_value("Cookie"));
    if (token.empty()) {
      SendError(response, static_cast<int>(grpc::StatusCode::UNAUTHENTICATED),
                "you are not signed in");
      return false;
    }
    if (!csrf_->Check(token, request.get_header_value(kCsrfHeader))) {
      SendError(response, denied,
                "the request lacks this page's security token; reload the "
                "page and try again");
      return false;
    }
  }
  return true;
}

void ConsoleServer::Session(const httplib::Request& request,
                            httplib::Response& response) const {
  const std::string token =
      SessionTokenFromCookie(request.get_header_value("Cookie"));
  if (token.empty()) {
    SendError(response, static_cast<int>(grpc::StatusCode::UNAUTHENTICATED),
              "you are not signed in");
    return;
  }
  NodeAnswer answer =
      node_->Call("haven.v1.AuthService", "WhoAmI", "{}", token);
  if (!answer.status.ok()) {
    if (answer.status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      response.set_header("Set-Cookie", ClearedCookie());
    }
    SendAnswer(response, answer);
    return;
  }
  response.set_content(SessionJson(answer.json, csrf_->TokenFor(token)), kJson);
}

void ConsoleServer::SignIn(const httplib::Request& request,
                           httplib::Response& response) const {
  NodeAnswer answer =
      node_->Call("haven.v1.AuthService", "SignIn", request.body, "");
  if (!answer.status.ok()) {
    SendAnswer(response, answer);
    return;
  }
  haven::v1::SignInResponse signed_in;
  pb::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = true;
  if (!pb::util::JsonStringToMessage(answer.json, &signed_in, parse).ok() ||
      !CookieSafe(signed_in.session_token())) {
    SendError(response, static_cast<int>(grpc::StatusCode::INTERNAL),
              "the node's sign-in answer could not be used");
    return;
  }
  haven::v1::WhoAmIResponse who;
  who.set_name(signed_in.name());
  who.set_role(signed_in.role());
  who.set_personal(true);
  who.set_idle_expires_unix(signed_in.idle_expires_unix());
  who.set_absolute_expires_unix(signed_in.absolute_expires_unix());
  pb::util::JsonPrintOptions print;
  print.always_print_primitive_fields = true;
  std::string who_json;
  (void)pb::util::MessageToJsonString(who, &who_json, print);
  response.set_header("Set-Cookie", SessionCookie(signed_in.session_token()));
  response.set_content(
      SessionJson(who_json, csrf_->TokenFor(signed_in.session_token())), kJson);
}

void ConsoleServer::SignOut(const httplib::Request& request,
                            httplib::Response& response) const {
  const std::string token =
      SessionTokenFromCookie(request.get_header_value("Cookie"));
  NodeAnswer answer =
      node_->Call("haven.v1.AuthService", "SignOut", "{}", token);
  response.set_header("Set-Cookie", ClearedCookie());
  // A session the node already ended is signed out all the same.
  if (!answer.status.ok() &&
      answer.status.error_code() != grpc::StatusCode::UNAUTHENTICATED) {
    SendAnswer(response, answer);
    return;
  }
  response.set_content("{}", kJson);
}

void ConsoleServer::Enrol(const std::string& method,
                          const httplib::Request& request,
                          httplib::Response& response) const {
  SendAnswer(response,
             node_->Call("haven.v1.AuthService", method, request.body, ""));
}

void ConsoleServer::Call(const httplib::Request& request,
                         httplib::Response& response) const {
  const std::string service = request.matches[1];
  const std::string method = request.matches[2];
  if (!NodeBridge::IsCallable(service, method)) {
    SendError(response, static_cast<int>(grpc::StatusCode::NOT_FOUND),
              "the console does not offer this call");
    return;
  }
  if (!AcceptPost(request, response, true)) return;
  const std::string token =
      SessionTokenFromCookie(request.get_header_value("Cookie"));
  NodeAnswer answer = node_->Call(service, method, request.body, token);
  if (answer.status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    response.set_header("Set-Cookie", ClearedCookie());
  }
  SendAnswer(response, answer);
}

}  // namespace haven::client::console

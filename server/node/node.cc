#include "server/node/node.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/auth/authenticator.h"
#include "server/node/event_log.h"
#include "server/federation/manifest.h"
#include "server/services/services.h"
#include "server/services/work_pool.h"
#include "server/storage/database.h"

namespace haven::server::node {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", what, " ", path));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Replaces the port of "host:port" with `port`.
std::string WithPort(const std::string& address, int port) {
  return absl::StrCat(address.substr(0, address.rfind(':')), ":", port);
}

}  // namespace

// Everything the node owns besides its servers. Declared here so node.h
// stays free of module headers.
struct Node::Modules {
  std::unique_ptr<storage::Database> database;
  std::unique_ptr<auth::Authenticator> authenticator;
  std::unique_ptr<federation::FederationRegistry> federation;
  std::unique_ptr<services::WorkPool> pool;
  services::ServiceContext service_context;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
};

Node::Node(LoadedConfig config) : config_(std::move(config)) {}

Node::~Node() { Shutdown(absl::Seconds(1)); }

absl::StatusOr<std::unique_ptr<Node>> Node::Create(LoadedConfig config) {
  std::unique_ptr<Node> node(new Node(std::move(config)));
  const haven::v1::NodeConfig& c = node->config_.config;
  auto modules = std::make_unique<Modules>();

  auto cert = ReadFile(c.tls().cert_file(), "TLS certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadFile(c.tls().key_file(), "TLS private key");
  if (!key.ok()) return key.status();
  auto ca = ReadFile(c.tls().ca_file(), "task-force CA certificate");
  if (!ca.ok()) return ca.status();
  modules->tls_cert = *std::move(cert);
  modules->tls_key = *std::move(key);
  modules->tls_ca = *std::move(ca);

  storage::Database::Options db_options;
  db_options.path = c.data_dir();
  auto database = storage::Database::Open(std::move(db_options));
  if (!database.ok()) return database.status();
  modules->database = *std::move(database);

  auto federation = federation::FederationRegistry::Create(c.manifest_file());
  if (!federation.ok()) return federation.status();
  modules->federation = *std::move(federation);
  if (!c.manifest_file().empty() &&
      modules->federation->current()->Find(c.agency_id()) == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        node->config_.Where("manifest_file"), ": ", c.manifest_file(),
        " does not list this node's agency '", c.agency_id(), "'"));
  }

  modules->authenticator = std::make_unique<auth::Authenticator>(c.principals());
  // Bodies of RPCs (synced writes, peer calls) run here, not on gRPC's
  // reactor threads.
  modules->pool = std::make_unique<services::WorkPool>(8);
  services::ServiceContext& context = modules->service_context;
  context.agency_id = c.agency_id();
  context.authenticator = modules->authenticator.get();
  context.pool = modules->pool.get();
  context.federation = modules->federation.get();
  context.version = HAVEN_VERSION_STRING;
  context.started = absl::Now();
  node->modules_ = std::move(modules);
  return node;
}

absl::Status Node::Start() {
  const haven::v1::NodeConfig& c = config_.config;
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  // Local API: server-authenticated TLS; callers present bearer tokens.
  grpc::SslServerCredentialsOptions local_tls(
      GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  local_tls.pem_key_cert_pairs.push_back(
      {modules_->tls_key, modules_->tls_cert});
  auto local_services = services::MakeLocalServices(modules_->service_context);

  grpc::ServerBuilder local_builder;
  int local_port = 0;
  local_builder.AddListeningPort(c.listen_address(),
                                 grpc::SslServerCredentials(local_tls),
                                 &local_port);
  for (auto& service : local_services) local_builder.RegisterService(service.get());
  local_server_ = local_builder.BuildAndStart();
  if (local_server_ == nullptr || local_port == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", c.listen_address(), " (listen_address in ",
        config_.path, "): address in use or not local"));
  }
  local_address_ = WithPort(c.listen_address(), local_port);
  for (auto& service : local_services) services_.push_back(std::move(service));

  if (!c.peer_listen_address().empty()) {
    // Peer API: mutual TLS, client certificates must chain to the
    // task-force CA.
    grpc::SslServerCredentialsOptions peer_tls(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    peer_tls.pem_root_certs = modules_->tls_ca;
    peer_tls.pem_key_cert_pairs.push_back(
        {modules_->tls_key, modules_->tls_cert});
    auto peer_services = services::MakePeerServices(modules_->service_context);
    grpc::ServerBuilder peer_builder;
    int peer_port = 0;
    peer_builder.AddListeningPort(c.peer_listen_address(),
                                  grpc::SslServerCredentials(peer_tls),
                                  &peer_port);
    for (auto& service : peer_services) peer_builder.RegisterService(service.get());
    peer_server_ = peer_builder.BuildAndStart();
    if (peer_server_ == nullptr || peer_port == 0) {
      return absl::UnavailableError(absl::StrCat(
          "cannot listen on ", c.peer_listen_address(),
          " (peer_listen_address in ", config_.path, ")"));
    }
    peer_address_ = WithPort(c.peer_listen_address(), peer_port);
    for (auto& service : peer_services) services_.push_back(std::move(service));
  }
  return absl::OkStatus();
}

void Node::Shutdown(absl::Duration grace) {
  auto deadline = absl::ToChronoTime(absl::Now() + grace);
  for (auto* server : {local_server_.get(), peer_server_.get()}) {
    if (server == nullptr) continue;
    if (auto* health = server->GetHealthCheckService()) {
      health->SetServingStatus(false);
    }
    server->Shutdown(deadline);
    server->Wait();
  }
  local_server_.reset();
  peer_server_.reset();
}

}  // namespace haven::server::node

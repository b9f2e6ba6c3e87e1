#include "server/node/node.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "policy/clock.h"
#include "policy/loader.h"
#include "policy/policy_holder.h"
#include "server/audit/audit_log.h"
#include "server/audit/audit_recorder.h"
#include "server/audit/audit_store.h"
#include "server/auth/authenticator.h"
#include "server/consent/consent_registry.h"
#include "server/consent/consent_store.h"
#include "server/crypto/ed25519_signer.h"
#include "server/crypto/master_key.h"
#include "server/crypto/node_keys.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/holder.h"
#include "server/exchange/notice_board.h"
#include "server/exchange/peer_client.h"
#include "server/exchange/peer_outbox.h"
#include "server/exchange/replay_guard.h"
#include "server/exchange/requester.h"
#include "server/exchange/signing.h"
#include "server/exchange/witness.h"
#include "server/federation/manifest.h"
#include "server/node/event_log.h"
#include "server/services/services.h"
#include "server/services/work_pool.h"
#include "server/storage/database.h"
#include "server/vault/record_vault.h"

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

}  // namespace

std::string AuditOrigin(const std::string& agency_id) {
  return exchange::CheckpointOrigin(agency_id);
}

namespace {

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
  std::unique_ptr<crypto::Ed25519Signer> signer;
  crypto::SecretBytes pseudonym_key;
  std::unique_ptr<vault::RecordVault> vault;
  std::unique_ptr<audit::AuditStore> audit_store;
  std::unique_ptr<audit::AuditLog> audit_log;
  std::unique_ptr<audit::AuditRecorder> recorder;
  std::unique_ptr<consent::ConsentStore> consent_store;
  std::unique_ptr<consent::ConsentRegistry> consents;
  std::unique_ptr<policy::PolicyHolder> policy;
  std::unique_ptr<exchange::HandleStore> handles;
  std::unique_ptr<exchange::ReplayGuard> replay;
  std::unique_ptr<exchange::PeerClient> peers;
  std::unique_ptr<exchange::NoticeBoard> notices;
  std::unique_ptr<exchange::Holder> holder;
  std::unique_ptr<exchange::Requester> requester;
  std::unique_ptr<exchange::Witness> witness;
  std::unique_ptr<exchange::PeerOutbox> outbox;
  exchange::PeerOutbox::Sender send_to_peer;  // set by WireExchangeHooks
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

  auto master_key = crypto::LoadMasterKeyFile(c.master_key_file());
  if (!master_key.ok()) {
    return absl::Status(master_key.status().code(),
                        absl::StrCat(node->config_.Where("master_key_file"),
                                     ": ", master_key.status().message()));
  }

  storage::Database::Options db_options;
  db_options.path = c.data_dir();
  auto database = storage::Database::Open(std::move(db_options));
  if (!database.ok()) return database.status();
  modules->database = *std::move(database);

  auto signing_seed = crypto::DeriveSigningSeed(*master_key);
  if (!signing_seed.ok()) return signing_seed.status();
  auto signer = crypto::Ed25519Signer::FromSeed(*signing_seed);
  if (!signer.ok()) return signer.status();
  modules->signer = *std::move(signer);
  auto pseudonym_key = crypto::DerivePseudonymKey(*master_key);
  if (!pseudonym_key.ok()) return pseudonym_key.status();
  modules->pseudonym_key = *std::move(pseudonym_key);

  vault::RecordVault::Options vault_options;
  vault_options.db = modules->database.get();
  vault_options.master_key = *std::move(master_key);
  auto vault = vault::RecordVault::Create(std::move(vault_options));
  if (!vault.ok()) {
    return absl::Status(
        vault.status().code(),
        absl::StrCat(vault.status().message(), " (data dir ", c.data_dir(),
                     ", master key ", c.master_key_file(), ")"));
  }
  modules->vault = *std::move(vault);

  modules->audit_store =
      std::make_unique<audit::RocksDbAuditStore>(modules->database.get());
  audit::AuditLog::Options log_options;
  log_options.origin = AuditOrigin(c.agency_id());
  log_options.signer = modules->signer.get();
  log_options.store = modules->audit_store.get();
  auto audit_log = audit::AuditLog::Open(std::move(log_options));
  if (!audit_log.ok()) return audit_log.status();
  modules->audit_log = *std::move(audit_log);
  modules->recorder = std::make_unique<audit::AuditRecorder>(
      c.agency_id(), modules->audit_log.get(), &modules->pseudonym_key);

  modules->consent_store =
      std::make_unique<consent::RocksDbConsentStore>(modules->database.get());
  consent::ConsentRegistry::Options consent_options;
  consent_options.store = modules->consent_store.get();
  consent_options.clock = policy::SystemClock::Get();
  consent_options.signer = modules->signer.get();
  consent_options.issuer = c.agency_id();
  auto consents = consent::ConsentRegistry::Create(std::move(consent_options));
  if (!consents.ok()) return consents.status();
  modules->consents = *std::move(consents);

  modules->policy = std::make_unique<policy::PolicyHolder>();
  if (!c.policy_file().empty()) {
    auto loaded = policy::LoadPolicyFile(c.policy_file());
    if (!loaded.ok()) return loaded.status();
    if (loaded->policy.agency_id() != c.agency_id()) {
      return absl::FailedPreconditionError(absl::StrCat(
          node->config_.Where("policy_file"), ": ", c.policy_file(),
          " is the policy of '", loaded->policy.agency_id(), "', not of '",
          c.agency_id(), "'"));
    }
    auto compiled = policy::CompiledPolicy::Compile(loaded->policy);
    if (!compiled.ok()) return compiled.status();
    modules->policy->Replace(*compiled);
    for (const auto& warning : loaded->warnings) {
      LogEvent("policy_warning", {{"warning", warning}});
    }
  }

  auto federation = federation::FederationRegistry::Create(c.manifest_file());
  if (!federation.ok()) return federation.status();
  modules->federation = *std::move(federation);
  if (!c.manifest_file().empty() &&
      modules->federation->current()->Find(c.agency_id()) == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        node->config_.Where("manifest_file"), ": ", c.manifest_file(),
        " does not list this node's agency '", c.agency_id(), "'"));
  }

  modules->handles =
      std::make_unique<exchange::HandleStore>(modules->database.get());
  modules->replay = std::make_unique<exchange::ReplayGuard>(absl::Seconds(120));
  modules->peers = std::make_unique<exchange::PeerClient>(
      exchange::PeerClient::Tls{modules->tls_cert, modules->tls_key,
                                modules->tls_ca},
      absl::Seconds(10));
  modules->notices = std::make_unique<exchange::NoticeBoard>();
  modules->outbox =
      std::make_unique<exchange::PeerOutbox>(modules->database.get());
  modules->holder = std::make_unique<exchange::Holder>(exchange::Holder::Deps{
      c.agency_id(), policy::SystemClock::Get(), modules->signer.get(),
      modules->replay.get(), modules->handles.get(), modules->policy.get(),
      modules->consents.get(), modules->vault.get(), modules->recorder.get()});
  modules->requester =
      std::make_unique<exchange::Requester>(exchange::Requester::Deps{
          c.agency_id(), policy::SystemClock::Get(), modules->signer.get(),
          modules->federation.get(), modules->peers.get(),
          modules->recorder.get()});

  modules->witness =
      std::make_unique<exchange::Witness>(exchange::Witness::Deps{
          c.agency_id(), modules->database.get(), modules->federation.get(),
          modules->peers.get(), modules->audit_log.get(),
          policy::SystemClock::Get()});

  modules->authenticator =
      std::make_unique<auth::Authenticator>(c.principals());
  // Bodies of RPCs that wait (synced writes) run here, not on gRPC's
  // reactor threads; the pool is sized so that many such waits share one
  // sync (group commit). Disclosures hold no pool thread while they wait
  // for a peer or for the audit log: those waits end in callbacks.
  modules->pool = std::make_unique<services::WorkPool>(64);
  services::ServiceContext& context = modules->service_context;
  context.agency_id = c.agency_id();
  context.authenticator = modules->authenticator.get();
  context.pool = modules->pool.get();
  context.federation = modules->federation.get();
  context.version = HAVEN_VERSION_STRING;
  context.started = absl::Now();
  context.vault = modules->vault.get();
  context.audit = modules->recorder.get();
  context.consents = modules->consents.get();
  context.policy = modules->policy.get();
  context.holder = modules->holder.get();
  context.requester = modules->requester.get();
  context.handles = modules->handles.get();
  context.notices = modules->notices.get();
  context.witness = modules->witness.get();
  node->modules_ = std::move(modules);
  node->WireExchangeHooks();
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
  local_builder.AddListeningPort(
      c.listen_address(), grpc::SslServerCredentials(local_tls), &local_port);
  for (auto& service : local_services)
    local_builder.RegisterService(service.get());
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
    for (auto& service : peer_services)
      peer_builder.RegisterService(service.get());
    peer_server_ = peer_builder.BuildAndStart();
    if (peer_server_ == nullptr || peer_port == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", c.peer_listen_address(),
                       " (peer_listen_address in ", config_.path, ")"));
    }
    peer_address_ = WithPort(c.peer_listen_address(), peer_port);
    for (auto& service : peer_services) services_.push_back(std::move(service));
  }
  if (!c.manifest_file().empty()) {
    witness_thread_ = std::thread([this] { WitnessLoop(); });
  }
  haven::v1::AuditEntry started;
  started.set_kind(haven::v1::NODE_STARTED);
  started.set_detail(absl::StrCat("havend ", HAVEN_VERSION_STRING));
  if (auto logged = modules_->recorder->Record(started, "havend", "");
      !logged.ok()) {
    Shutdown(absl::ZeroDuration());
    return logged.status();
  }
  return absl::OkStatus();
}

const std::string& Node::verifier_key() const {
  return modules_->audit_log->VerifierKey();
}

void Node::WitnessLoop() {
  // Peers' checkpoints are checked every kWitnessInterval; the first round
  // waits a moment so that nodes started together can reach each other.
  constexpr absl::Duration kWitnessInterval = absl::Seconds(30);
  absl::Duration wait = absl::Seconds(2);
  while (true) {
    {
      absl::MutexLock lock(&stop_mu_);
      if (stop_mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait)) return;
    }
    int verified = modules_->witness->WitnessAll();
    LogEvent("peers_witnessed", {{"verified", absl::StrCat(verified)}});
    DeliverOutbox();
    wait = kWitnessInterval;
  }
}

void Node::DeliverOutbox() {
  exchange::PeerOutbox::PassResult pass =
      modules_->outbox->DeliverPending(modules_->send_to_peer);
  if (pass.delivered + pass.pending + pass.dropped > 0) {
    LogEvent("peer_outbox", {{"delivered", absl::StrCat(pass.delivered)},
                             {"pending", absl::StrCat(pass.pending)},
                             {"dropped", absl::StrCat(pass.dropped)}});
  }
}

void Node::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&stop_mu_);
    stopping_ = true;
  }
  if (witness_thread_.joinable()) witness_thread_.join();
  if (local_server_ == nullptr && peer_server_ == nullptr) return;
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
  haven::v1::AuditEntry stopped;
  stopped.set_kind(haven::v1::NODE_STOPPED);
  // Best effort: a node that cannot log its stop is stopping anyway.
  (void)modules_->recorder->Record(stopped, "havend", "");
}

}  // namespace haven::server::node

namespace haven::server::node {

// Consent changes reach grantee nodes through the peer outbox, after the
// change is durable and logged, so an advocate's call never waits on a
// peer. A message is stored first and tried at once from the work pool; a
// grantee that cannot be reached gets it on a later pass (when it next
// exchanges checkpoints with this node, and every witness round). Its
// requests are decided on the current consent in any case.
void Node::WireExchangeHooks() {
  Modules* m = modules_.get();
  const std::string self = config_.config.agency_id();

  m->send_to_peer = [m](const haven::v1::OutboxMessage& message) {
    auto manifest = m->federation->current();
    const haven::v1::Member* peer = manifest->Find(message.to_agency_id());
    if (peer == nullptr) {
      return absl::NotFoundError("peer is no longer in the federation");
    }
    if (peer->status() != haven::v1::MEMBER_ACTIVE) {
      return absl::FailedPreconditionError("peer is suspended");
    }
    const bool offer = message.has_offer_handle();
    absl::Status sent =
        offer ? m->peers->OfferHandle(*peer, message.offer_handle())
              : m->peers->NotifyRevocation(*peer, message.revocation_notice());
    LogEvent(offer ? (sent.ok() ? "handle_sent" : "handle_send_failed")
                   : (sent.ok() ? "revocation_notice_sent"
                                : "revocation_notice_failed"),
             {{"to", peer->agency_id()},
              {"status", absl::StatusCodeToString(sent.code())}});
    return sent;
  };
  // Stores a message for a peer, then tries the outbox from the work pool.
  auto post = [m](haven::v1::OutboxMessage message) {
    if (absl::Status stored = m->outbox->Add(std::move(message), absl::Now());
        !stored.ok()) {
      LogEvent("peer_outbox_store_failed",
               {{"status", absl::StatusCodeToString(stored.code())}});
      return;
    }
    m->pool->Schedule([m] { m->outbox->DeliverPending(m->send_to_peer); });
  };

  auto send_notices =
      [m, self, post](const std::string& subject_id,
                      const std::string& consent_id, const std::string& change,
                      std::function<bool(const haven::v1::Member&)> affected) {
        auto handles = m->handles->HandlesForSubject(subject_id);
        if (!handles.ok()) return;
        auto manifest = m->federation->current();
        for (const auto& handle : *handles) {
          const haven::v1::Member* grantee =
              manifest->Find(handle.grantee_agency_id());
          if (grantee == nullptr || !affected(*grantee)) continue;
          haven::v1::NotifyRevocationRequest call;
          auto* notice = call.mutable_notice();
          notice->set_notice_id(absl::StrCat(consent_id, "/", change, "/",
                                             absl::ToUnixNanos(absl::Now())));
          notice->set_holder_agency_id(self);
          notice->set_handle(handle.handle());
          notice->set_consent_id(consent_id);
          notice->set_change(change);
          notice->set_effective_unix(absl::ToUnixSeconds(absl::Now()));
          call.set_signature(exchange::Sign(*m->signer,
                                            exchange::kNoticeContext,
                                            exchange::Deterministic(*notice)));
          haven::v1::OutboxMessage message;
          message.set_to_agency_id(grantee->agency_id());
          *message.mutable_revocation_notice() = std::move(call);
          post(std::move(message));
        }
      };

  services::ServiceContext& context = m->service_context;
  context.on_consent_recorded = [m, self,
                                 post](const haven::v1::Consent& consent) {
    if (!consent.grantee().has_agency_id()) return;
    const std::string grantee_id = consent.grantee().agency_id();
    auto manifest = m->federation->current();
    const haven::v1::Member* grantee = manifest->Find(grantee_id);
    if (grantee == nullptr || grantee_id == self) return;
    auto handle = m->handles->IssueHandle(self, consent.subject_id(),
                                          grantee_id, absl::Now());
    if (!handle.ok()) {
      LogEvent("handle_issue_failed",
               {{"status", absl::StatusCodeToString(handle.status().code())}});
      return;
    }
    haven::v1::OfferHandleRequest call;
    *call.mutable_handle() = *handle;
    call.set_signature(exchange::Sign(*m->signer, exchange::kHandleContext,
                                      exchange::Deterministic(*handle)));
    haven::v1::OutboxMessage message;
    message.set_to_agency_id(grantee_id);
    *message.mutable_offer_handle() = std::move(call);
    post(std::move(message));
  };
  context.on_consent_withdrawn = [send_notices](
                                     const haven::v1::Consent& consent,
                                     const std::string& change) {
    haven::v1::Grantee grantee = consent.grantee();
    send_notices(consent.subject_id(), consent.consent_id(), change,
                 [grantee](const haven::v1::Member& member) {
                   return grantee.has_agency_id()
                              ? member.agency_id() == grantee.agency_id()
                              : member.sector() == grantee.sector();
                 });
  };
  context.on_refusal_recorded = [send_notices](const std::string& subject_id) {
    send_notices(subject_id, "", "refused",
                 [](const haven::v1::Member&) { return true; });
  };
  // A peer that exchanges checkpoints with us is up: give it what it is owed.
  context.on_peer_contact = [m](const std::string&) {
    m->pool->Schedule([m] { m->outbox->DeliverPending(m->send_to_peer); });
  };
}

}  // namespace haven::server::node

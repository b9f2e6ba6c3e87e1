#include "server/node/node.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client/verify/signed_note.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "haven/base/status_macros.h"
#include "haven/base/clock.h"
#include "policy/loader.h"
#include "policy/policy_holder.h"
#include "server/audit/audit_log.h"
#include "server/audit/audit_recorder.h"
#include "server/auth/authenticator.h"
#include "server/consent/consent_registry.h"
#include "server/consent/policy_store.h"
#include "server/crypto/ed25519_signer.h"
#include "server/crypto/master_key.h"
#include "server/crypto/node_keys.h"
#include "server/crypto/state_sealer.h"
#include "server/exchange/consent_fanout.h"
#include "server/exchange/grantee_inbox.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/holder.h"
#include "server/exchange/notice_board.h"
#include "server/exchange/peer_client.h"
#include "server/exchange/peer_outbox.h"
#include "server/exchange/replay_guard.h"
#include "server/exchange/requester.h"
#include "server/exchange/signing.h"
#include "server/exchange/cosignature_store.h"
#include "server/exchange/witness.h"
#include "server/federation/manifest.h"
#include "server/node/event_log.h"
#include "server/node/recovery.h"
#include "server/services/services.h"
#include "server/services/work_pool.h"
#include "server/storage/rocksdb_storage.h"
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

absl::StatusOr<std::string> VerifierKeyFromMasterKey(
    const haven::v1::NodeConfig& config) {
  HAVEN_ASSIGN_OR_RETURN(crypto::SecretBytes master_key,
                         crypto::LoadNodeMasterKey(config.master_key_file(),
                                                  std::getenv("CREDENTIALS_DIRECTORY")));
  HAVEN_ASSIGN_OR_RETURN(crypto::SecretBytes seed,
                         crypto::DeriveSigningSeed(master_key));
  HAVEN_ASSIGN_OR_RETURN(std::unique_ptr<crypto::Ed25519Signer> signer,
                         crypto::Ed25519Signer::FromSeed(seed));
  const auto& public_key = signer->public_key();
  return client::FormatVerifierKey(
      client::LogOrigin(config.agency_id()),
      std::string(public_key.begin(), public_key.end()));
}

namespace {

// Whether an advocate may name `grantee` in a consent: a member of the
// federation other than this node, and active (or any sector).
absl::Status CheckGrantee(const federation::Manifest& manifest,
                          const std::string& self,
                          const haven::v1::Grantee& grantee) {
  if (!grantee.has_agency_id()) return absl::OkStatus();
  const std::string& id = grantee.agency_id();
  if (id == self) {
    return absl::InvalidArgumentError(
        "consent: the grantee cannot be this node's own agency");
  }
  const haven::v1::Member* member = manifest.Find(id);
  if (member == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("consent: grantee agency '", id,
                     "' is not a member of the federation manifest"));
  }
  if (member->status() != haven::v1::MEMBER_ACTIVE) {
    return absl::FailedPreconditionError(
        absl::StrCat("consent: grantee agency '", id, "' is suspended"));
  }
  return absl::OkStatus();
}

// Issues and withdraws the handles that membership changes of `agencies`
// mean (ConsentRegistry::ReconcileMembers), and logs the outcome.
void ReconcileMembers(consent::ConsentRegistry& consents,
                      std::vector<std::string> agencies) {
  if (agencies.empty()) return;
  absl::StatusOr<int> reconciled =
      consents.ReconcileMembers(std::move(agencies));
  if (!reconciled.ok()) {
    LogEvent("membership_handles_failed",
             {{"code", absl::StatusCodeToString(reconciled.status().code())}});
  } else {
    LogEvent("membership_handles",
             {{"subjects_changed", absl::StrCat(*reconciled)}});
  }
}

// Replaces the port of "host:port" with `port`.
std::string WithPort(const std::string& address, int port) {
  return absl::StrCat(address.substr(0, address.rfind(':')), ":", port);
}

}  // namespace

// Everything the node owns besides its servers. Declared here so node.h
// stays free of module headers.
struct Node::Modules {
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<auth::Authenticator> authenticator;
  std::unique_ptr<federation::FederationRegistry> federation;
  std::unique_ptr<services::WorkPool> pool;
  std::unique_ptr<crypto::Ed25519Signer> signer;
  std::unique_ptr<crypto::StateSealer> sealer;
  crypto::SecretBytes pseudonym_key;
  std::unique_ptr<vault::RecordVault> vault;
  std::unique_ptr<audit::AuditLog> audit_log;
  std::unique_ptr<audit::AuditRecorder> recorder;
  std::unique_ptr<exchange::HandleStore> handles;
  std::unique_ptr<exchange::PeerOutbox> outbox;
  std::unique_ptr<exchange::ConsentFanout> fanout;
  std::unique_ptr<consent::ConsentRegistry> consents;
  std::unique_ptr<policy::PolicyHolder> policy;
  std::unique_ptr<consent::PolicyStore> policy_store;
  std::unique_ptr<exchange::ReplayGuard> replay;
  std::unique_ptr<exchange::PeerClient> peers;
  std::unique_ptr<exchange::NoticeBoard> notices;
  std::unique_ptr<exchange::GranteeInbox> inbox;
  std::unique_ptr<exchange::Holder> holder;
  std::unique_ptr<exchange::Requester> requester;
  std::unique_ptr<exchange::Witness> witness;
  std::unique_ptr<exchange::CosignatureStore> cosignatures;
  exchange::PeerOutbox::Sender send_to_peer;
  services::ServiceContext service_context;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
};

Node::Node(LoadedConfig config) : config_(std::move(config)) {}

Node::~Node() { Shutdown(absl::Seconds(1)); }

absl::StatusOr<std::unique_ptr<Node>> Node::Create(
    LoadedConfig config, std::unique_ptr<storage::Storage> storage) {
  std::unique_ptr<Node> node(new Node(std::move(config)));
  const haven::v1::NodeConfig& c = node->config_.config;
  auto modules = std::make_unique<Modules>();
  Modules* m = modules.get();
  const Clock* clock = SystemClock::Get();

  auto cert = ReadFile(c.tls().cert_file(), "TLS certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadFile(c.tls().key_file(), "TLS private key");
  if (!key.ok()) return key.status();
  auto ca = ReadFile(c.tls().ca_file(), "task-force CA certificate");
  if (!ca.ok()) return ca.status();
  m->tls_cert = *std::move(cert);
  m->tls_key = *std::move(key);
  m->tls_ca = *std::move(ca);

  auto master_key = crypto::LoadNodeMasterKey(
      c.master_key_file(), std::getenv("CREDENTIALS_DIRECTORY"));
  if (!master_key.ok()) {
    return absl::Status(master_key.status().code(),
                        absl::StrCat(node->config_.Where("master_key_file"),
                                     ": ", master_key.status().message()));
  }

  if (storage == nullptr) {
    storage::Database::Options db_options;
    db_options.path = c.data_dir();
    auto opened = storage::RocksDbStorage::Open(std::move(db_options));
    if (!opened.ok()) return opened.status();
    storage = *std::move(opened);
  }
  m->storage = std::move(storage);
  // Fail-stop: the first failed write or sync stops every RPC at once (the
  // storage refuses all later writes) and tells whoever runs the node.
  Node* raw_node = node.get();
  m->storage->OnWriteFailure([raw_node](const absl::Status& failure) {
    LogEvent("fail_stop", {{"status", absl::StatusCodeToString(failure.code())},
                           {"error", std::string(failure.message())}});
    raw_node->OnFailStop();
  });

  auto signing_seed = crypto::DeriveSigningSeed(*master_key);
  if (!signing_seed.ok()) return signing_seed.status();
  auto signer = crypto::Ed25519Signer::FromSeed(*signing_seed);
  if (!signer.ok()) return signer.status();
  m->signer = *std::move(signer);
  auto pseudonym_key = crypto::DerivePseudonymKey(*master_key);
  if (!pseudonym_key.ok()) return pseudonym_key.status();
  m->pseudonym_key = *std::move(pseudonym_key);
  auto sealer = crypto::StateSealer::Create(*master_key);
  if (!sealer.ok()) return sealer.status();
  m->sealer = *std::move(sealer);

  auto in_data_dir = [&c](const absl::Status& s) {
    return absl::Status(
        s.code(), absl::StrCat(s.message(), " (data dir ", c.data_dir(), ")"));
  };
  vault::RecordVault::Options vault_options;
  vault_options.storage = m->storage.get();
  vault_options.master_key = *std::move(master_key);
  vault_options.clock = clock;
  auto vault = vault::RecordVault::Create(std::move(vault_options));
  if (!vault.ok()) {
    return absl::Status(
        vault.status().code(),
        absl::StrCat(vault.status().message(), " (data dir ", c.data_dir(),
                     ", master key ", c.master_key_file(), ")"));
  }
  m->vault = *std::move(vault);

  audit::AuditLog::Options log_options;
  log_options.origin = client::LogOrigin(c.agency_id());
  log_options.agency_id = c.agency_id();
  log_options.signer = m->signer.get();
  log_options.sealer = m->sealer.get();
  log_options.storage = m->storage.get();
  log_options.clock = clock;
  auto audit_log = audit::AuditLog::Open(std::move(log_options));
  if (!audit_log.ok()) return in_data_dir(audit_log.status());
  m->audit_log = *std::move(audit_log);
  if (const auto& r = m->audit_log->recovery(); r.unconfirmed_commit) {
    LogEvent("recovered_failed_commit",
             {{"voided_first", absl::StrCat(r.voided_first)},
              {"voided_end", absl::StrCat(r.voided_end)},
              {"kept", absl::StrCat(r.kept.size())}});
  }
  m->recorder = std::make_unique<audit::AuditRecorder>(
      c.agency_id(), m->audit_log.get(), &m->pseudonym_key, clock);

  auto federation = federation::FederationRegistry::Create(c.manifest_file());
  if (!federation.ok()) return federation.status();
  m->federation = *std::move(federation);
  if (!c.manifest_file().empty() &&
      m->federation->current()->Find(c.agency_id()) == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        node->config_.Where("manifest_file"), ": ", c.manifest_file(),
        " does not list this node's agency '", c.agency_id(), "'"));
  }

  // Bodies of RPCs that wait (synced writes) run here, not on gRPC's
  // reactor threads; the pool is sized so that many such waits share one
  // sync (group commit). Disclosures hold no pool thread while they wait
  // for a peer or for the audit log: those waits end in callbacks.
  m->pool = std::make_unique<services::WorkPool>(64);

  m->handles = std::make_unique<exchange::HandleStore>(m->storage.get(),
                                                       m->sealer.get());
  m->outbox = std::make_unique<exchange::PeerOutbox>(
      m->storage.get(), m->sealer.get(), m->audit_log.get());
  m->fanout =
      std::make_unique<exchange::ConsentFanout>(exchange::ConsentFanout::Deps{
          c.agency_id(), clock, m->signer.get(), m->federation.get(),
          m->handles.get(), m->outbox.get(), m->recorder.get(), [m] {
            m->pool->Schedule(
                [m] { m->outbox->DeliverPending(m->send_to_peer); });
          }});

  consent::ConsentRegistry::Options consent_options;
  consent_options.storage = m->storage.get();
  consent_options.audit = m->recorder.get();
  consent_options.sealer = m->sealer.get();
  consent_options.clock = clock;
  consent_options.signer = m->signer.get();
  consent_options.observer = m->fanout.get();
  consent_options.issuer = c.agency_id();
  consent_options.check_grantee =
      [m, self = c.agency_id()](const haven::v1::Grantee& grantee) {
        return CheckGrantee(*m->federation->current(), self, grantee);
      };
  // A refusal may name any member, suspended ones included (the survivor's
  // wish outlasts a suspension), but not an agency outside the federation.
  consent_options.check_refused_agency = [m, self = c.agency_id()](
                                             absl::string_view agency_id) {
    haven::v1::Grantee grantee;
    grantee.set_agency_id(std::string(agency_id));
    absl::Status checked =
        CheckGrantee(*m->federation->current(), self, grantee);
    if (checked.code() == absl::StatusCode::kFailedPrecondition) {
      return absl::OkStatus();  // suspended
    }
    if (!checked.ok()) {
      return absl::InvalidArgumentError(
          "refusal: agency_id must be a member of the federation other than "
          "this node");
    }
    return checked;
  };
  consent_options.check_subject = [m](absl::string_view subject_id) {
    return m->vault->CheckSubject(subject_id);
  };
  auto consents = consent::ConsentRegistry::Create(std::move(consent_options));
  if (!consents.ok()) return in_data_dir(consents.status());
  m->consents = *std::move(consents);
  // A new manifest can move members into or out of a sector a consent
  // grants, add, remove, suspend or reinstate them: their handles follow,
  // as they follow consent changes, before the reload returns.
  m->federation->SetInstallListener(
      [m](const std::shared_ptr<const federation::Manifest>& before,
          const std::shared_ptr<const federation::Manifest>& after) {
        ReconcileMembers(*m->consents,
                         federation::ChangedMembers(*before, *after));
      });

  m->replay = std::make_unique<exchange::ReplayGuard>(absl::Seconds(120));
  if (absl::Status tail = CheckLogTail(*m->audit_log, *m->consents,
                                       c.agency_id(), *clock, m->replay.get());
      !tail.ok()) {
    return in_data_dir(tail);
  }

  m->policy = std::make_unique<policy::PolicyHolder>();
  m->policy_store =
      std::make_unique<consent::PolicyStore>(m->storage.get(), m->sealer.get());
  // A policy loaded at run time outlives restarts: it was the admin's last
  // word, logged with its POLICY_LOADED entry. The config's policy_file
  // applies only until the first run-time load.
  auto stored_policy = m->policy_store->Load();
  if (!stored_policy.ok()) return in_data_dir(stored_policy.status());
  if (stored_policy->has_value()) {
    const haven::v1::StoredPolicy& stored = **stored_policy;
    auto compiled = policy::CompiledPolicy::Compile(stored.policy());
    if (!compiled.ok()) return in_data_dir(compiled.status());
    if (stored.policy().agency_id() != c.agency_id() ||
        (*compiled)->version() != stored.policy_version()) {
      return in_data_dir(absl::DataLossError(
          "the stored run-time policy is not this node's or does not match "
          "its recorded version"));
    }
    m->policy->Replace(
        *compiled, {absl::StrCat("loaded at run time by ", stored.loaded_by()),
                    stored.loaded_unix()});
    LogEvent("policy_in_force", {{"source", "run-time load"},
                                 {"version", stored.policy_version()}});
    if (!c.policy_file().empty()) {
      LogEvent("policy_file_not_applied",
               {{"why",
                 "a policy loaded at run time is in force; "
                 "havenctl policy load replaces it"}});
    }
  } else if (!c.policy_file().empty()) {
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
    m->policy->Replace(
        *compiled,
        {absl::StrCat("policy_file ", c.policy_file()), clock->NowUnix()});
    for (const auto& warning : loaded->warnings) {
      LogEvent("policy_warning", {{"warning", warning}});
    }
  }

  m->peers = std::make_unique<exchange::PeerClient>(
      exchange::PeerClient::Tls{m->tls_cert, m->tls_key, m->tls_ca},
      absl::Seconds(10));
  m->notices = std::make_unique<exchange::NoticeBoard>();
  m->inbox = std::make_unique<exchange::GranteeInbox>(
      exchange::GranteeInbox::Deps{c.agency_id(), m->handles.get(),
                                   m->notices.get(), m->recorder.get()});
  m->holder = std::make_unique<exchange::Holder>(exchange::Holder::Deps{
      c.agency_id(), clock, m->signer.get(), m->replay.get(), m->handles.get(),
      m->policy.get(), m->consents.get(), m->vault.get(), m->recorder.get()});
  m->requester =
      std::make_unique<exchange::Requester>(exchange::Requester::Deps{
          c.agency_id(), clock, m->signer.get(), m->federation.get(),
          m->peers.get(), m->recorder.get()});
  m->witness = std::make_unique<exchange::Witness>(exchange::Witness::Deps{
      c.agency_id(), m->storage.get(), m->federation.get(), m->peers.get(),
      m->audit_log.get(), clock, m->signer.get(), m->recorder.get()});
  m->cosignatures = std::make_unique<exchange::CosignatureStore>(
      exchange::CosignatureStore::Deps{m->storage.get(), m->audit_log.get(),
                                       clock});
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

  m->authenticator = std::make_unique<auth::Authenticator>(c.principals());
  services::ServiceContext& context = m->service_context;
  context.agency_id = c.agency_id();
  context.authenticator = m->authenticator.get();
  context.pool = m->pool.get();
  context.federation = m->federation.get();
  context.version = HAVEN_VERSION_STRING;
  context.started = absl::Now();
  context.vault = m->vault.get();
  context.audit = m->recorder.get();
  context.consents = m->consents.get();
  context.policy = m->policy.get();
  context.policy_store = m->policy_store.get();
  context.holder = m->holder.get();
  context.requester = m->requester.get();
  context.handles = m->handles.get();
  context.notices = m->notices.get();
  context.witness = m->witness.get();
  context.cosignatures = m->cosignatures.get();
  context.inbox = m->inbox.get();
  context.storage = m->storage.get();
  // A peer that exchanges checkpoints with us is up: give it what it is owed.
  context.on_peer_contact = [m](const std::string&) {
    m->pool->Schedule([m] { m->outbox->DeliverPending(m->send_to_peer); });
  };
  node->modules_ = std::move(modules);
  return node;
}

void Node::OnFailStop() {
  absl::AnyInvocable<void()> handler;
  {
    absl::MutexLock lock(&stop_mu_);
    failed_ = true;
    handler = std::move(on_fail_stop_);
  }
  // Health checks report NOT_SERVING at once; RPCs already refuse.
  for (auto* server : {local_server_.get(), peer_server_.get()}) {
    if (server == nullptr) continue;
    if (auto* health = server->GetHealthCheckService()) {
      health->SetServingStatus(false);
    }
  }
  if (handler) handler();
}

void Node::SetFailStopHandler(absl::AnyInvocable<void()> handler) {
  absl::MutexLock lock(&stop_mu_);
  on_fail_stop_ = std::move(handler);
}

void Node::SettleAfterFailure(absl::Duration timeout) const {
  if (modules_ != nullptr && modules_->audit_log != nullptr &&
      !modules_->audit_log->AwaitCommitsSettled(timeout)) {
    LogEvent("fail_stop_unsettled",
             {{"waited", absl::FormatDuration(timeout)}});
  }
}

bool Node::failed() const {
  absl::MutexLock lock(&stop_mu_);
  return failed_;
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
  const uint32_t configured = config_.config.witness_interval_seconds();
  const absl::Duration kWitnessInterval =
      configured > 0 ? absl::Seconds(configured) : absl::Seconds(30);
  absl::Duration wait = configured > 0 ? kWitnessInterval : absl::Seconds(2);
  // The manifest may have changed while the node was down: the first round
  // brings every listed member's handles in line with it.
  bool first_round = true;
  while (true) {
    {
      absl::MutexLock lock(&stop_mu_);
      if (stop_mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait)) return;
    }
    int verified = modules_->witness->WitnessAll();
    LogEvent("peers_witnessed", {{"verified", absl::StrCat(verified)}});
    // A consent that ran out withdraws its handles as a revocation would:
    // otherwise the grantee could still name the survivor, and break-glass
    // stays open to it for every survivor it ever had a handle for.
    absl::StatusOr<int> expired = modules_->consents->SweepExpired();
    if (!expired.ok()) {
      LogEvent("consent_expiry_failed",
               {{"code", absl::StatusCodeToString(expired.status().code())}});
    } else if (*expired > 0) {
      LogEvent("consents_expired",
               {{"handles_changed", absl::StrCat(*expired)}});
    }
    // After the expiry sweep, so that a consent that ran out is reported
    // as such rather than as a membership change.
    if (first_round) {
      first_round = false;
      std::vector<std::string> members;
      for (const auto& member :
           modules_->federation->current()->proto().members()) {
        members.push_back(member.agency_id());
      }
      ReconcileMembers(*modules_->consents, std::move(members));
    }
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
  if (modules_->storage->stopped()) return;
  haven::v1::AuditEntry stopped;
  stopped.set_kind(haven::v1::NODE_STOPPED);
  // Best effort: a node that cannot log its stop is stopping anyway.
  (void)modules_->recorder->Record(stopped, "havend", "");
}

}  // namespace haven::server::node

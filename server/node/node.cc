#include "server/node/node.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client/verify/signed_manifest.h"
#include "client/verify/signed_note.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "grpcpp/server_builder.h"
#include "haven/base/clock.h"
#include "haven/base/status_macros.h"
#include "policy/policy_holder.h"
#include "server/audit/audit_log.h"
#include "server/audit/audit_recorder.h"
#include "server/audit/break_glass_reviews.h"
#include "server/audit/rollback_guard.h"
#include "server/audit/signing_key_store.h"
#include "server/auth/accounts.h"
#include "server/auth/authenticator.h"
#include "server/auth/session_table.h"
#include "server/backup/backup.h"
#include "server/consent/consent_registry.h"
#include "server/consent/policy_in_force.h"
#include "server/consent/policy_store.h"
#include "server/crypto/ed25519_signer.h"
#include "server/crypto/master_key.h"
#include "server/crypto/node_keys.h"
#include "server/crypto/state_sealer.h"
#include "server/exchange/checkpoint_exchange.h"
#include "server/exchange/consent_fanout.h"
#include "server/exchange/cosignature_store.h"
#include "server/exchange/federation_round.h"
#include "server/exchange/grantee_inbox.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/holder.h"
#include "server/exchange/manifest_gossip.h"
#include "server/exchange/notice_board.h"
#include "server/exchange/peer_client.h"
#include "server/exchange/peer_outbox.h"
#include "server/exchange/peer_sender.h"
#include "server/exchange/replay_guard.h"
#include "server/exchange/requester.h"
#include "server/exchange/signing.h"
#include "server/exchange/witness.h"
#include "server/federation/manifest.h"
#include "server/federation/manifest_update.h"
#include "server/federation/membership.h"
#include "server/federation/node_certificate.h"
#include "server/federation/peer_identity.h"
#include "server/metrics/metrics_endpoint.h"
#include "server/metrics/registry.h"
#include "server/node/event_log.h"
#include "server/node/recovery.h"
#include "server/services/rpc_metrics.h"
#include "server/services/services.h"
#include "server/services/work_pool.h"
#include "server/storage/rocksdb_storage.h"
#include "server/vault/record_desk.h"
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
  HAVEN_ASSIGN_OR_RETURN(
      crypto::SecretBytes master_key,
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

// Replaces the port of "host:port" with `port`.
std::string WithPort(const std::string& address, int port) {
  return absl::StrCat(address.substr(0, address.rfind(':')), ":", port);
}

// A counting interceptor for a server of `api` ("local", "peer"), or none
// without metrics.
std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
RpcInterceptors(metrics::Registry* registry, std::string api) {
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  if (registry != nullptr) {
    interceptors.push_back(
        services::MakeRpcMetricsInterceptorFactory(registry, std::move(api)));
  }
  return interceptors;
}

}  // namespace

// Everything the node owns besides its servers. Declared here so node.h
// stays free of module headers.
struct Node::Modules {
  // First, so it outlives every module that records into it. Null when
  // metrics are off.
  std::unique_ptr<metrics::Registry> metrics;
  std::unique_ptr<storage::Storage> storage;
  // Personal sessions (memory only) and the accounts they sign in to.
  std::unique_ptr<auth::SessionTable> sessions;
  std::unique_ptr<auth::Accounts> accounts;
  std::unique_ptr<auth::Authenticator> authenticator;
  std::unique_ptr<federation::FederationRegistry> federation;
  std::unique_ptr<federation::ManifestUpdater> manifests;
  std::unique_ptr<exchange::ManifestGossip> gossip;
  // The peer API's and peer calls' certificate, switched at run time.
  std::unique_ptr<federation::NodeCertificate> certificate;
  std::unique_ptr<services::WorkPool> pool;
  std::unique_ptr<crypto::StateSealer> sealer;
  // The node's signing key (rotated by an admin); modules borrow its signer.
  std::unique_ptr<audit::SigningKeyStore> signing_keys;
  crypto::SecretBytes pseudonym_key;
  std::unique_ptr<vault::RecordVault> vault;
  std::unique_ptr<vault::CaseReferences> case_references;
  std::unique_ptr<vault::RecordDesk> desk;
  std::unique_ptr<audit::AuditLog> audit_log;
  std::unique_ptr<audit::AuditRecorder> recorder;
  std::unique_ptr<audit::BreakGlassReviews> reviews;
  std::unique_ptr<audit::RollbackGuard> rollback;
  std::unique_ptr<backup::BackupMaker> backups;
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
  std::unique_ptr<exchange::CheckpointExchange> checkpoints;
  std::unique_ptr<consent::PolicyInForce> policy_in_force;
  std::unique_ptr<exchange::PeerSender> sender;
  std::unique_ptr<exchange::FederationRound> round;
  // Runs one outbox pass on the pool, soon (after a consent change, or when
  // a peer shows it is up).
  std::function<void()> deliver_soon;
  services::Modules service_modules;
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

  HAVEN_ASSIGN_OR_RETURN(m->tls_cert,
                         ReadFile(c.tls().cert_file(), "TLS certificate"));
  HAVEN_ASSIGN_OR_RETURN(m->tls_key,
                         ReadFile(c.tls().key_file(), "TLS private key"));
  HAVEN_ASSIGN_OR_RETURN(
      m->tls_ca, ReadFile(c.tls().ca_file(), "task-force CA certificate"));

  auto master_key = crypto::LoadNodeMasterKey(
      c.master_key_file(), std::getenv("CREDENTIALS_DIRECTORY"));
  if (!master_key.ok()) {
    return absl::Status(master_key.status().code(),
                        absl::StrCat(node->config_.Where("master_key_file"),
                                     ": ", master_key.status().message()));
  }

  if (!c.metrics_listen_address().empty()) {
    m->metrics = std::make_unique<metrics::Registry>();
  }

  if (storage == nullptr) {
    HAVEN_RETURN_IF_ERROR(backup::CheckNoIncompleteRestore(c.data_dir()));
    storage::Database::Options db_options;
    db_options.path = c.data_dir();
    HAVEN_ASSIGN_OR_RETURN(
        storage, storage::RocksDbStorage::Open(std::move(db_options)));
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

  HAVEN_ASSIGN_OR_RETURN(m->pseudonym_key,
                         crypto::DerivePseudonymKey(*master_key));
  HAVEN_ASSIGN_OR_RETURN(m->sealer, crypto::StateSealer::Create(*master_key));

  auto in_data_dir = [&c](const absl::Status& s) {
    return absl::Status(
        s.code(), absl::StrCat(s.message(), " (data dir ", c.data_dir(), ")"));
  };
  // Before the log opens: a rotation whose commit failed is kept, not
  // undone, so the key loaded here is the one the log's last commit left.
  auto signing_keys = audit::SigningKeyStore::Open(
      {m->storage.get(), m->sealer.get(), client::LogOrigin(c.agency_id())},
      *master_key);
  if (!signing_keys.ok()) return in_data_dir(signing_keys.status());
  m->signing_keys = *std::move(signing_keys);
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
  log_options.signer = m->signing_keys->signer();
  log_options.earlier_verifier_keys = m->signing_keys->EarlierVerifierKeys();
  log_options.sealer = m->sealer.get();
  log_options.storage = m->storage.get();
  log_options.clock = clock;
  log_options.metrics = m->metrics.get();
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

  federation::FederationRegistry::Options federation_options;
  federation_options.path = c.manifest_file();
  federation_options.storage = m->storage.get();
  if (!c.manifest_file().empty()) {
    // LoadConfig checked the keys; parsed again here for their form.
    HAVEN_ASSIGN_OR_RETURN(
        federation_options.trust,
        client::ParseManifestTrust({c.federation_verifier_keys().begin(),
                                    c.federation_verifier_keys().end()},
                                   c.federation_signatures_required()));
  }
  HAVEN_ASSIGN_OR_RETURN(m->federation, federation::FederationRegistry::Create(
                                            std::move(federation_options)));
  m->manifests = std::make_unique<federation::ManifestUpdater>(
      federation::ManifestUpdater::Deps{m->federation.get(),
                                        m->recorder.get()});
  if (!c.manifest_file().empty() &&
      m->federation->current()->Find(c.agency_id()) == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        node->config_.Where("manifest_file"), ": ", c.manifest_file(),
        " does not list this node's agency '", c.agency_id(), "'"));
  }

  // After a restore, or once a peer showed that the log went back, peers
  // are refused until they confirm the log or an admin acknowledges.
  auto rollback = audit::RollbackGuard::Open(audit::RollbackGuard::Deps{
      m->storage.get(), m->recorder.get(), [m, self = c.agency_id()] {
        std::vector<std::string> peers;
        for (const auto& member : m->federation->current()->proto().members()) {
          if (member.agency_id() != self &&
              member.status() == haven::v1::MEMBER_ACTIVE) {
            peers.push_back(member.agency_id());
          }
        }
        return peers;
      }});
  if (!rollback.ok()) return in_data_dir(rollback.status());
  m->rollback = *std::move(rollback);
  m->backups = std::make_unique<backup::BackupMaker>(backup::BackupMaker::Deps{
      c.agency_id(), m->storage.get(), m->recorder.get()});

  // Bodies of RPCs that wait (synced writes) run here, not on gRPC's
  // reactor threads; the pool is sized so that many such waits share one
  // sync (group commit). Disclosures hold no pool thread while they wait
  // for a peer or for the audit log: those waits end in callbacks.
  m->pool = std::make_unique<services::WorkPool>(64);
  m->deliver_soon = [m] {
    m->pool->Schedule(
        [m] { m->outbox->DeliverPending(m->sender->AsSender()); });
  };

  m->handles = std::make_unique<exchange::HandleStore>(m->storage.get(),
                                                       m->sealer.get());
  m->outbox = std::make_unique<exchange::PeerOutbox>(
      m->storage.get(), m->sealer.get(), m->audit_log.get());
  m->fanout =
      std::make_unique<exchange::ConsentFanout>(exchange::ConsentFanout::Deps{
          c.agency_id(), clock, m->signing_keys->signer(), m->federation.get(),
          m->handles.get(), m->outbox.get(), m->recorder.get(),
          [m] { m->deliver_soon(); }});

  consent::ConsentRegistry::Options consent_options;
  consent_options.storage = m->storage.get();
  consent_options.audit = m->recorder.get();
  consent_options.sealer = m->sealer.get();
  consent_options.clock = clock;
  consent_options.signer = m->signing_keys->signer();
  consent_options.observer = m->fanout.get();
  consent_options.issuer = c.agency_id();
  consent_options.check_grantee = [m, self = c.agency_id()](
                                      const haven::v1::Grantee& grantee) {
    return federation::CheckGrantee(*m->federation->current(), self, grantee);
  };
  consent_options.check_refused_agency =
      [m, self = c.agency_id()](absl::string_view agency_id) {
        return federation::CheckRefusedAgency(*m->federation->current(), self,
                                              agency_id);
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
        m->round->ReconcileMembers(federation::ChangedMembers(*before, *after));
      });

  m->replay = std::make_unique<exchange::ReplayGuard>(absl::Seconds(120));
  if (absl::Status tail = CheckLogTail(*m->audit_log, *m->consents,
                                       c.agency_id(), *clock, m->replay.get());
      !tail.ok()) {
    return in_data_dir(tail);
  }
  // A manifest file with a newer serial than the one applied before (or a
  // node's first) is logged and kept before anything acts on it.
  if (absl::Status start = m->manifests->RecordStart(); !start.ok()) {
    return in_data_dir(start);
  }

  m->policy = std::make_unique<policy::PolicyHolder>();
  m->policy_store =
      std::make_unique<consent::PolicyStore>(m->storage.get(), m->sealer.get());
  m->policy_in_force = std::make_unique<consent::PolicyInForce>(
      consent::PolicyInForce::Deps{c.agency_id(), m->policy_store.get(),
                                   m->policy.get(), m->recorder.get(), clock});
  HAVEN_RETURN_IF_ERROR(m->policy_in_force->Bootstrap(
      {c.policy_file(), node->config_.Where("policy_file"), c.data_dir()}));

  {
    federation::NodeCertificate::Options certificate_options;
    certificate_options.agency_id = c.agency_id();
    certificate_options.cert_file = c.tls().cert_file();
    certificate_options.key_file = c.tls().key_file();
    certificate_options.ca_pem = m->tls_ca;
    certificate_options.initial.cert_pem = m->tls_cert;
    certificate_options.initial.key_pem = m->tls_key;
    auto fingerprint = federation::CertificateFingerprint(m->tls_cert);
    if (fingerprint.ok()) {
      certificate_options.initial.cert_sha256 = *fingerprint;
    }
    certificate_options.federation = m->federation.get();
    certificate_options.audit = m->recorder.get();
    HAVEN_ASSIGN_OR_RETURN(m->certificate, federation::NodeCertificate::Create(
                                               std::move(certificate_options)));
  }
  m->peers = std::make_unique<exchange::PeerClient>(
      exchange::PeerClient::Tls{m->tls_cert, m->tls_key, m->tls_ca},
      absl::Seconds(10));
  // After a certificate rotation, calls to peers present the new one.
  m->certificate->SetInstallListener(
      [m](const federation::NodeCertificate::Identity& identity) {
        m->peers->SetTls(exchange::PeerClient::Tls{
            identity.cert_pem, identity.key_pem, m->tls_ca});
      });
  m->notices = std::make_unique<exchange::NoticeBoard>();
  m->inbox = std::make_unique<exchange::GranteeInbox>(
      exchange::GranteeInbox::Deps{c.agency_id(), m->handles.get(),
                                   m->notices.get(), m->recorder.get()});
  m->holder = std::make_unique<exchange::Holder>(exchange::Holder::Deps{
      c.agency_id(), clock, m->signing_keys->signer(), m->replay.get(),
      m->handles.get(), m->policy.get(), m->consents.get(), m->vault.get(),
      m->recorder.get(), m->metrics.get()});
  m->requester =
      std::make_unique<exchange::Requester>(exchange::Requester::Deps{
          c.agency_id(), clock, m->signing_keys->signer(), m->federation.get(),
          m->peers.get(), m->recorder.get()});
  m->witness = std::make_unique<exchange::Witness>(exchange::Witness::Deps{
      c.agency_id(), m->storage.get(), m->federation.get(), m->peers.get(),
      m->audit_log.get(), clock, m->signing_keys->signer(), m->recorder.get(),
      [m](const haven::v1::Member& peer,
          const haven::v1::ExchangeCheckpointResponse& answer) {
        m->rollback->OnPeerAnswered(peer.agency_id(),
                                    answer.has_caller_witnessed()
                                        ? &answer.caller_witnessed()
                                        : nullptr);
        // Fetched now, in the witness round, so that a suspension reaches
        // this node within one round of any peer holding it.
        m->gossip->OnPeerSerial(peer, answer.manifest_serial()).IgnoreError();
      },
      m->metrics.get()});
  m->cosignatures = std::make_unique<exchange::CosignatureStore>(
      exchange::CosignatureStore::Deps{m->storage.get(), m->audit_log.get(),
                                       clock});
  m->sender = std::make_unique<exchange::PeerSender>(m->federation.get(),
                                                     m->peers.get());
  m->round = std::make_unique<exchange::FederationRound>(
      exchange::FederationRound::Deps{m->federation.get(), m->witness.get(),
                                      m->consents.get(), m->outbox.get(),
                                      m->sender->AsSender()});
  m->sessions =
      std::make_unique<auth::SessionTable>(auth::SessionTable::Options{
          clock,
          c.session_idle_seconds() > 0 ? int64_t{c.session_idle_seconds()}
                                       : 900,
          c.session_max_seconds() > 0 ? int64_t{c.session_max_seconds()}
                                      : 28800});
  {
    auth::Accounts::Options account_options;
    account_options.storage = m->storage.get();
    account_options.sealer = m->sealer.get();
    account_options.audit = m->recorder.get();
    account_options.clock = clock;
    account_options.sessions = m->sessions.get();
    for (const auto& principal : c.principals()) {
      account_options.reserved_names.insert(principal.name());
    }
    account_options.issuer = c.agency_id();
    HAVEN_ASSIGN_OR_RETURN(m->accounts,
                           auth::Accounts::Create(std::move(account_options)));
  }
  m->authenticator =
      std::make_unique<auth::Authenticator>(c.principals(), m->sessions.get());
  services::Modules& services = m->service_modules;
  services.env = {m->authenticator.get(), m->pool.get(), m->storage.get(),
                  m->federation.get(), m->rollback.get()};
  m->case_references = std::make_unique<vault::CaseReferences>(m->storage.get(),
                                                               m->sealer.get());
  m->desk = std::make_unique<vault::RecordDesk>(
      m->vault.get(), m->recorder.get(), m->case_references.get());
  services.admin = {c.agency_id(),
                    HAVEN_VERSION_STRING,
                    absl::FromUnixSeconds(clock->NowUnix()),
                    m->federation.get(),
                    m->manifests.get(),
                    m->recorder.get(),
                    m->policy.get(),
                    m->policy_in_force.get(),
                    m->desk.get(),
                    m->consents.get(),
                    m->backups.get(),
                    m->rollback.get(),
                    m->certificate.get(),
                    m->signing_keys.get()};
  services.records = m->desk.get();
  services.consents = m->consents.get();
  services.accounts = m->accounts.get();
  services.exchange = {m->requester.get(), m->handles.get(), m->notices.get()};
  m->reviews = std::make_unique<audit::BreakGlassReviews>(m->recorder.get());
  services.audit = {m->recorder.get(), m->witness.get(), m->cosignatures.get(),
                    m->reviews.get()};
  m->gossip =
      std::make_unique<exchange::ManifestGossip>(exchange::ManifestGossip::Deps{
          m->federation.get(), m->manifests.get(), m->peers.get()});
  // A peer that exchanges checkpoints with us is up: give it what it is
  // owed, and fetch a newer manifest it holds (off the RPC's thread: the
  // fetch is a call back to that peer).
  m->checkpoints = std::make_unique<exchange::CheckpointExchange>(
      exchange::CheckpointExchange::Deps{
          m->audit_log.get(), m->cosignatures.get(),
          [m](const haven::v1::Member& peer,
              const haven::v1::ExchangeCheckpointRequest& request) {
            m->deliver_soon();
            if (request.manifest_serial() >
                m->federation->current()->serial()) {
              m->pool->Schedule([m, peer, serial = request.manifest_serial()] {
                m->gossip->OnPeerSerial(peer, serial).IgnoreError();
              });
            }
          },
          [m] { return m->federation->current()->serial(); },
          [m](const std::string& agency_id)
              -> std::optional<haven::v1::Checkpoint> {
            auto witnessed = m->witness->Witnessed(agency_id);
            if (!witnessed.ok() || witnessed->empty()) return std::nullopt;
            return witnessed->front().checkpoint();
          }});
  services.peer = {m->holder.get(), m->inbox.get(), m->checkpoints.get(),
                   m->federation.get()};
  if (m->metrics != nullptr) AddScrapeTimeMetrics(c.agency_id(), m);
  node->modules_ = std::move(modules);
  return node;
}

void Node::AddScrapeTimeMetrics(const std::string& self, Modules* m) {
  // Read when scraped, from modules that outlive the registry's use: the
  // endpoint stops in Shutdown, before any module goes.
  m->metrics->AddGaugeCallback(
      "haven_audit_tree_size",
      "Entries in this node's audit log covered by its latest signed "
      "checkpoint.",
      {}, [m] {
        return std::vector<metrics::Sample>{
            {{}, static_cast<double>(m->audit_log->Size())}};
      });
  m->metrics->AddGaugeCallback(
      "haven_consents", "Consents recorded at this node, by current status.",
      {"status"}, [m] {
        const consent::ConsentRegistry::StatusCounts n =
            m->consents->CountByStatus();
        return std::vector<metrics::Sample>{
            {{"active"}, static_cast<double>(n.active)},
            {{"paused"}, static_cast<double>(n.paused)},
            {{"revoked"}, static_cast<double>(n.revoked)},
            {{"expired"}, static_cast<double>(n.expired)}};
      });
  m->metrics->AddGaugeCallback(
      "haven_survivor_refusals",
      "Survivors' \"do not share\" refusals recorded at this node, by state.",
      {"state"}, [m] {
        const consent::ConsentRegistry::StatusCounts n =
            m->consents->CountByStatus();
        return std::vector<metrics::Sample>{
            {{"active"}, static_cast<double>(n.refusals_active)},
            {{"lifted"}, static_cast<double>(n.refusals_lifted)}};
      });
  // Every other member of the manifest gets a series (0 when nothing is
  // owed), plus any peer still owed something that left the manifest.
  m->metrics->AddGaugeCallback(
      "haven_peer_outbox_pending_messages",
      "Messages (handle offers, revocation notices) this node still owes "
      "each peer, as of the last delivery pass.",
      {"peer"}, [m, self] {
        auto pending = m->outbox->PendingByPeer();
        for (const auto& member : m->federation->current()->proto().members()) {
          if (member.agency_id() != self)
            pending.try_emplace(member.agency_id(), 0);
        }
        std::vector<metrics::Sample> samples;
        samples.reserve(pending.size());
        for (const auto& [peer, count] : pending) {
          samples.push_back({{peer}, static_cast<double>(count)});
        }
        return samples;
      });
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
  auto local_services = services::MakeLocalServices(modules_->service_modules);

  grpc::ServerBuilder local_builder;
  local_builder.experimental().SetInterceptorCreators(
      RpcInterceptors(modules_->metrics.get(), "local"));
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
    // task-force CA (checked in the handshake; who the caller is, is
    // decided per call from the certificate and the manifest). The node's
    // own certificate comes from a provider that follows
    // `havenctl admin reload-certificate`.
    grpc::experimental::TlsServerCredentialsOptions peer_tls(
        modules_->certificate->server_provider());
    peer_tls.watch_root_certs();
    peer_tls.watch_identity_key_cert_pairs();
    peer_tls.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    // Nothing beyond the CA chain in the handshake (as with the SSL
    // credentials before); set explicitly, as gRPC 1.51 expects a verifier.
    peer_tls.set_certificate_verifier(
        std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    auto peer_services = services::MakePeerServices(modules_->service_modules);
    grpc::ServerBuilder peer_builder;
    peer_builder.experimental().SetInterceptorCreators(
        RpcInterceptors(modules_->metrics.get(), "peer"));
    int peer_port = 0;
    peer_builder.AddListeningPort(
        c.peer_listen_address(),
        grpc::experimental::TlsServerCredentials(peer_tls), &peer_port);
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
  if (modules_->metrics != nullptr) {
    auto endpoint = metrics::MetricsEndpoint::Start(c.metrics_listen_address(),
                                                    modules_->metrics.get());
    if (!endpoint.ok()) {
      return absl::Status(
          endpoint.status().code(),
          absl::StrCat(endpoint.status().message(),
                       " (metrics_listen_address in ", config_.path, ")"));
    }
    metrics_endpoint_ = *std::move(endpoint);
    metrics_address_ = metrics_endpoint_->address();
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

std::string Node::verifier_key() const {
  return modules_->audit_log->VerifierKey();
}

void Node::WitnessLoop() {
  // Peers' checkpoints are checked every kWitnessInterval; the first round
  // waits a moment so that nodes started together can reach each other.
  const uint32_t configured = config_.config.witness_interval_seconds();
  const absl::Duration kWitnessInterval =
      configured > 0 ? absl::Seconds(configured) : absl::Seconds(30);
  absl::Duration wait = configured > 0 ? kWitnessInterval : absl::Seconds(2);
  while (true) {
    {
      absl::MutexLock lock(&stop_mu_);
      if (stop_mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait)) return;
    }
    modules_->round->RunOnce();
    wait = kWitnessInterval;
  }
}

void Node::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&stop_mu_);
    stopping_ = true;
  }
  if (witness_thread_.joinable()) witness_thread_.join();
  if (metrics_endpoint_ != nullptr) metrics_endpoint_->Stop();
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

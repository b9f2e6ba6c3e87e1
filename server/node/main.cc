// havend: the Haven node daemon.
//
// Exit codes: 0 clean stop; 1 could not start (storage, keys, ports, a
// failed start check); 2 usage or configuration error; 3 stopped after a
// storage failure (fail-stop).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/backup/backup.h"
#include "server/crypto/master_key.h"
#include "server/federation/peer_identity.h"
#include "server/node/node_setup.h"
#include "server/node/service_manager.h"
#include "server/node/config.h"
#include "server/node/event_log.h"
#include "server/node/node.h"

#ifndef HAVEN_VERSION
#define HAVEN_VERSION "0.0.0"
#endif

namespace {

constexpr char kUsage[] = R"(Usage: havend --config FILE [--init]
       havend --config FILE --restore-from BACKUP_DIR
       havend --setup DIR --agency AGENCY_ID

Runs a Haven node: the agency's encrypted record vault, consent registry
and audit log, served over gRPC with TLS.

Options:
  --config FILE   node configuration (haven.v1.NodeConfig, text format)
  --init          prepare a node: create the data dir (mode 0700) and the
                  master key file (mode 0600) named in the config if they
                  do not exist, print the node's verifier key (for the
                  federation manifest), initialise the database if the
                  other files the config names exist, and exit 0
  --setup DIR --agency AGENCY_ID
                  set up a new node in DIR (absent or empty) in one step:
                  data dir, master key, TLS key, a certificate signing
                  request for the task-force CA, an admin token and the
                  config; prints what to hand the task force. Refuses a
                  DIR that holds anything, and changes nothing then
  --restore-from BACKUP_DIR
                  put a backup (havenctl admin backup) into the config's
                  data dir, which must be missing or empty, and exit. The
                  node's next start compares its log with what its peers
                  witnessed and serves them only once they confirm it, or
                  once an admin acknowledges (havenctl admin
                  acknowledge-rollback)
  --help          show this help
  --version       print the version

Stops cleanly on SIGTERM or SIGINT. Stops at once, with exit code 3, when
a write to its storage fails (fail-stop): a supervisor should restart it,
and the start checks and repairs what the failure left.
Exit codes: 0 stopped cleanly, 1 could not start, 2 usage or config error,
3 stopped after a storage failure.
)";

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "havend: %s\n", message.c_str());
  return code;
}

int SetUp(const std::string& dir, const std::string& agency_id) {
  auto setup = haven::server::node::SetUpNode(dir, agency_id);
  if (!setup.ok()) {
    return Fail(absl::IsInvalidArgument(setup.status()) ? 2 : 1,
                std::string(setup.status().message()));
  }
  std::printf(
      "node %s set up: %s\n"
      "\n"
      "Hand the task force's operator:\n"
      "  agency id:    %s\n"
      "  verifier key: %s\n"
      "  certificate signing request (%s/node.csr):\n%s\n"
      "Then place the issued node.crt and the task force's ca.crt beside the\n"
      "config, and run havend --config %s --init: it prints the certificate\n"
      "fingerprint (cert_sha256) the manifest must list. Back master.key up\n"
      "offline; admin.token is the admin's bearer token.\n",
      agency_id.c_str(), setup->config_path.c_str(), agency_id.c_str(),
      setup->verifier_key.c_str(), dir.c_str(), setup->csr_pem.c_str(),
      setup->config_path.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
#ifdef NDEBUG
  // Debian's Abseil is built with its debug checks on, so every Mutex lock
  // would update a process-wide lock graph under one global spinlock. That
  // serialises the daemon's threads; debug builds and the tests keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  std::string config_path;
  std::string setup_dir;
  std::string setup_agency;
  std::string restore_from;
  bool init = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--version") {
      std::printf("havend %s\n", HAVEN_VERSION);
      return 0;
    }
    if (arg == "--init") {
      init = true;
    } else if (arg == "--setup" && i + 1 < argc) {
      setup_dir = argv[++i];
    } else if (arg == "--restore-from" && i + 1 < argc) {
      restore_from = argv[++i];
    } else if (arg == "--agency" && i + 1 < argc) {
      setup_agency = argv[++i];
    } else if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      config_path = arg.substr(std::strlen("--config="));
    } else {
      return Fail(
          2, absl::StrCat("unknown argument '", arg, "' (see havend --help)"));
    }
  }
  if (!setup_dir.empty() || !setup_agency.empty()) {
    if (setup_dir.empty() || setup_agency.empty() || !config_path.empty() ||
        init) {
      return Fail(2, "--setup DIR goes with --agency AGENCY_ID alone");
    }
    return SetUp(setup_dir, setup_agency);
  }
  if (config_path.empty()) {
    return Fail(2, "missing --config FILE (see havend --help)");
  }

  auto loaded = haven::server::node::LoadConfig(config_path);
  if (!loaded.ok()) return Fail(2, std::string(loaded.status().message()));
  haven::server::node::SetEventLogAgency(loaded->config.agency_id());

  if (!restore_from.empty()) {
    if (init) return Fail(2, "--restore-from goes with --config alone");
    const auto& c = loaded->config;
    if (absl::Status restored = haven::server::backup::RestoreBackup(
            restore_from, c.data_dir(), c.agency_id());
        !restored.ok()) {
      return Fail(1, std::string(restored.message()));
    }
    std::printf(
        "restored %s into %s.\n"
        "Start the node with its master key: until every active peer has\n"
        "confirmed that its log is not behind what they witnessed, it serves\n"
        "no peer (havenctl admin status shows why). Records, consents and\n"
        "erasures changed after the backup was taken are not in it.\n",
        restore_from.c_str(), c.data_dir().c_str());
    return 0;
  }

  if (init) {
    // Idempotent: creates only what is missing, never overwrites a key.
    const auto& c = loaded->config;
    std::error_code ec;
    if (!std::filesystem::exists(c.data_dir(), ec)) {
      std::filesystem::create_directories(c.data_dir(), ec);
      if (ec) {
        return Fail(1, absl::StrCat("cannot create data dir ", c.data_dir(),
                                    ": ", ec.message()));
      }
      chmod(c.data_dir().c_str(), 0700);
      std::printf("created data dir %s\n", c.data_dir().c_str());
    }
    if (c.master_key_file().empty()) {
      std::printf(
          "master key: none made (master_key_file is empty, so the key comes "
          "from the systemd credential %s)\n",
          haven::server::crypto::kMasterKeyCredential);
    } else if (!std::filesystem::exists(c.master_key_file(), ec)) {
      auto key =
          haven::server::crypto::CreateMasterKeyFile(c.master_key_file());
      if (!key.ok()) return Fail(1, std::string(key.status().message()));
      std::printf(
          "created master key %s (mode 0600); back it up offline: "
          "without it the data dir cannot be read\n",
          c.master_key_file().c_str());
    }
  }

  if (init) {
    // The manifest that publishes this key is usually written after it:
    // print the key from the master key alone, then initialise the
    // database only if everything else the node needs is already there.
    auto verifier_key =
        haven::server::node::VerifierKeyFromMasterKey(loaded->config);
    if (!verifier_key.ok()) {
      return Fail(1, std::string(verifier_key.status().message()));
    }
    std::printf("verifier_key: %s\n", verifier_key->c_str());
    std::ifstream cert_file(loaded->config.tls().cert_file());
    std::stringstream cert;
    cert << cert_file.rdbuf();
    if (auto fingerprint =
            haven::server::federation::CertificateFingerprint(cert.str());
        fingerprint.ok()) {
      std::printf("cert_sha256: %s\n", fingerprint->c_str());
    }
    if (absl::Status s = haven::server::node::CheckConfigFiles(*loaded);
        !s.ok()) {
      std::printf(
          "database not initialised yet (%s); it is created at the first "
          "start, or run --init again once the files exist\n",
          std::string(s.message()).c_str());
      return 0;
    }
  }

  if (absl::Status s = haven::server::node::CheckConfigFiles(*loaded);
      !s.ok()) {
    return Fail(2, std::string(s.message()));
  }

  // Block the stop signals in every thread (gRPC's included) and take them
  // synchronously below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  // Raised by the node itself when its storage fails (fail-stop).
  sigaddset(&stop_signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const std::string data_dir = loaded->config.data_dir();
  auto node = haven::server::node::Node::Create(*std::move(loaded));
  if (!node.ok()) return Fail(1, std::string(node.status().message()));
  if (init) {
    std::printf("database initialised in %s\n", data_dir.c_str());
    return 0;
  }
  (*node)->SetFailStopHandler([] { kill(getpid(), SIGUSR1); });
  if (absl::Status s = (*node)->Start(); !s.ok()) {
    return Fail((*node)->failed() ? 3 : 1, std::string(s.message()));
  }
  haven::server::node::LogEvent(
      "node_started",
      {{"version", HAVEN_VERSION},
       {"local", (*node)->local_address()},
       {"peer",
        (*node)->peer_address().empty() ? "disabled" : (*node)->peer_address()},
       {"metrics", (*node)->metrics_address().empty()
                       ? "disabled"
                       : (*node)->metrics_address()}});
  // Both endpoints serve: only now may systemd order dependents after us.
  haven::server::node::ServiceManager service_manager;
  service_manager.Ready(absl::StrCat("serving on ", (*node)->local_address()));
  haven::server::node::Node* running = node->get();
  service_manager.StartWatchdog([running] { return !running->failed(); });

  int signal_number = 0;
  do {
    sigwait(&stop_signals, &signal_number);
  } while (signal_number == SIGUSR1 && !(*node)->failed());
  if ((*node)->failed()) {
    // The commit that failed first leaves word for the next start (which
    // undoes it if its bytes reached the disk after all); then nothing more
    // is written: the process exits as it is.
    service_manager.Stopping();
    (*node)->SettleAfterFailure(absl::Seconds(5));
    haven::server::node::LogEvent("node_stopped_after_storage_failure");
    std::_Exit(3);
  }
  haven::server::node::LogEvent("node_stopping",
                                {{"signal", strsignal(signal_number)}});
  service_manager.Stopping();
  (*node)->Shutdown(absl::Seconds(5));
  node->reset();
  haven::server::node::LogEvent("node_stopped");
  return 0;
}

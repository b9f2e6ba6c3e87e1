// End-to-end tests of the havend process: configuration errors, TLS health,
// reflection and clean shutdown, with real processes on 127.0.0.1.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "haven/v1/admin.grpc.pb.h"
#include "proto/reflection_client.grpc.pb.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_node.h"
#include "tests/testing/test_operator_key.h"

namespace haven::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

class HavendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TempDir();
    std::string error;
    ASSERT_TRUE(
        MakeCertificates(pki_->path(), {"safe-harbor", "legal-aid"}, &error))
        << error;
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  TestNode::Options NodeOptions() {
    TestNode::Options options;
    options.root_dir = dir_.path();
    options.pki_dir = pki_->path();
    return options;
  }

  // Runs havend on `config` and returns its exit code and stderr.
  int RunHavend(const std::string& config, std::string* output) {
    return RunCommand({HavendPath(), "--config", config}, output,
                      std::chrono::seconds(30));
  }

  static TempDir* pki_;
  TempDir dir_;
};
TempDir* HavendTest::pki_ = nullptr;

TEST_F(HavendTest, StandardHealthClientGetsServingOverTls) {
  TestNode node(NodeOptions());
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;

  auto stub = grpc::health::v1::Health::NewStub(node.LocalChannel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status =
      stub->Check(&context, grpc::health::v1::HealthCheckRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(node.Stop(), 0);
}

TEST_F(HavendTest, PlaintextClientIsRefused) {
  TestNode node(NodeOptions());
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  auto channel = grpc::CreateChannel(node.local_address(),
                                     grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(3));
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_FALSE(
      stub->Check(&context, grpc::health::v1::HealthCheckRequest(), &response)
          .ok());
}

TEST_F(HavendTest, ReflectionListsHavenServices) {
  TestNode node(NodeOptions());
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;

  auto stub =
      grpc::reflection::v1alpha::ServerReflection::NewStub(node.LocalChannel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  auto stream = stub->ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::set<std::string> names;
  for (const auto& service : response.list_services_response().service()) {
    names.insert(service.name());
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_THAT(names,
              IsSupersetOf({"haven.v1.RecordService", "haven.v1.ConsentService",
                            "haven.v1.ExchangeService", "haven.v1.AuditService",
                            "haven.v1.AdminService"}));
}

TEST_F(HavendTest, SigtermStopsCleanlyAndLogsIt) {
  TestNode node(NodeOptions());
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  EXPECT_EQ(node.Stop(), 0);
  std::string log = node.Log();
  EXPECT_THAT(log, HasSubstr("node_stopping signal=Terminated"));
  EXPECT_THAT(log, HasSubstr("node_stopped"));
}

TEST_F(HavendTest, LogNeverContainsTokensOrMasterKey) {
  TestNode node(NodeOptions());
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  std::string output;
  EXPECT_EQ(node.Havenctl("caseworker", {"health"}, &output), 0) << output;
  EXPECT_EQ(node.Stop(), 0);
  std::string log = node.Log();
  std::string key = ReadFileOrEmpty(node.dir() + "/master.key");
  key.pop_back();  // newline
  EXPECT_THAT(log, Not(HasSubstr(key)));
  for (const char* role : TestNode::kRoles) {
    EXPECT_THAT(log, Not(HasSubstr(node.token(role))));
  }
}

// The master key delivered as systemd delivers a credential
// (LoadCredential=haven-master-key:FILE): the node serves with no
// master_key_file, and the key is in neither its command line, its
// environment, its config nor its log, in hex or raw.
TEST_F(HavendTest, MasterKeyFromCredentialsDirectoryIsNowhereElse) {
  TestNode::Options options = NodeOptions();
  options.master_key_as_credential = true;
  TestNode node(options);
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  std::string output;
  EXPECT_EQ(node.Havenctl("caseworker", {"health"}, &output), 0) << output;

  const std::string hex = node.master_key_hex();
  ASSERT_EQ(hex.size(), 64u);
  const std::string raw = absl::HexStringToBytes(hex);
  const std::string proc = "/proc/" + std::to_string(node.pid());
  const std::string cmdline = ReadFileOrEmpty(proc + "/cmdline");
  const std::string environ = ReadFileOrEmpty(proc + "/environ");
  ASSERT_THAT(cmdline, HasSubstr("--config"));
  ASSERT_THAT(environ, HasSubstr("CREDENTIALS_DIRECTORY="));
  const std::string config = ReadFileOrEmpty(node.config_path());
  EXPECT_THAT(config, Not(HasSubstr("master_key_file")));
  EXPECT_EQ(node.Stop(), 0);
  const std::string log =
      node.Log() + ReadFileOrEmpty(node.dir() + "/havend.out");
  EXPECT_THAT(log, HasSubstr("node_stopped"));
  for (const std::string* place : {&cmdline, &environ, &config, &log}) {
    EXPECT_THAT(*place, Not(HasSubstr(hex)));
    EXPECT_THAT(*place, Not(HasSubstr(raw)));
  }
}

// Without master_key_file and without a credential, the node says where a
// key may come from, and does not start.
TEST_F(HavendTest, NoMasterKeySourceIsExplained) {
  TestNode::Options options = NodeOptions();
  options.master_key_as_credential = true;
  TestNode node(options);
  std::string output;
  EXPECT_NE(RunHavend(node.config_path(), &output), 0);
  EXPECT_THAT(output, AllOf(HasSubstr("no master key"),
                            HasSubstr("LoadCredential=haven-master-key")));
}

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof(address.sun_path) - 1);
    bound_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&address),
                              sizeof(address)) == 0;
    timeval timeout{0, 200'000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~NotifySocket() {
    if (fd_ >= 0) close(fd_);
  }
  bool bound() const { return bound_; }
  // Messages received within `wait` (bounded), in order.
  std::vector<std::string> Receive(std::chrono::milliseconds wait) {
    std::vector<std::string> out;
    const auto end = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < end) {
      char buffer[512];
      ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n > 0) out.emplace_back(buffer, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

// Under systemd (Type=notify, WatchdogSec=) the node says READY=1 once it
// serves, then pings the watchdog, and says STOPPING=1 on SIGTERM.
TEST_F(HavendTest, TellsSystemdWhenReadyPingsTheWatchdogAndStops) {
  NotifySocket notify(dir_.Join("notify.sock"));
  ASSERT_TRUE(notify.bound());
  TestNode::Options options = NodeOptions();
  options.env = {"NOTIFY_SOCKET=" + dir_.Join("notify.sock"),
                 "WATCHDOG_USEC=200000"};
  TestNode node(options);
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  std::vector<std::string> first = notify.Receive(std::chrono::seconds(2));
  ASSERT_FALSE(first.empty());
  EXPECT_THAT(first.front(), AllOf(HasSubstr("READY=1"),
                                   HasSubstr("STATUS=serving on 127.0.0.1:")));
  EXPECT_GE(std::count(first.begin(), first.end(), "WATCHDOG=1"), 3);
  EXPECT_EQ(node.Stop(), 0);
  std::vector<std::string> last =
      notify.Receive(std::chrono::milliseconds(300));
  EXPECT_THAT(last, ::testing::Contains("STOPPING=1"));
}

// Every file under `dir` with its mode and content, to show that a refused
// setup changed nothing.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    struct stat st;
    stat(entry.path().c_str(), &st);
    files[entry.path().string()] =
        std::to_string(st.st_mode) + ":" +
        (entry.is_regular_file() ? ReadFileOrEmpty(entry.path()) : "");
  }
  return files;
}

// havend --setup makes a whole node in one step; once the task-force CA
// issues its certificate from the request, it starts and its admin token
// works. Run again, setup refuses and touches nothing.
// A setup killed midway (power cut, SIGKILL) leaves its staging directory,
// master key included; the next setup into the same place removes it, and
// leaves alone one whose process still runs.
TEST_F(HavendTest, SetupRemovesWhatASetupKilledMidwayLeftBehind) {
  // A pid that no longer runs: a child that has exited and been reaped.
  std::string output;
  Subprocess gone({"/bin/true"}, dir_.Join("true.out"), dir_.Join("true.err"));
  ASSERT_EQ(gone.Wait(std::chrono::seconds(10)), 0);
  const std::string abandoned =
      dir_.Join(absl::StrCat(".bay-legal.setup-", gone.pid()));
  const std::string running =
      dir_.Join(absl::StrCat(".bay-legal.setup-", getpid()));
  for (const std::string& staging : {abandoned, running}) {
    std::filesystem::create_directory(staging);
    std::ofstream(staging + "/master.key") << std::string(64, 'a') << "\n";
  }
  ASSERT_EQ(RunCommand({HavendPath(), "--setup", dir_.Join("bay-legal"),
                        "--agency", "bay-legal"},
                       &output),
            0)
      << output;
  EXPECT_FALSE(std::filesystem::exists(abandoned));
  EXPECT_TRUE(std::filesystem::exists(running + "/master.key"));
  EXPECT_TRUE(std::filesystem::exists(dir_.Join("bay-legal/master.key")));
}

TEST_F(HavendTest, SetupMakesANodeThatStartsOnceItsCertificateIsIssued) {
  const std::string dir = dir_.Join("bay-legal");
  std::string output;
  ASSERT_EQ(RunCommand({HavendPath(), "--setup", dir, "--agency", "bay-legal"},
                       &output),
            0)
      << output;
  EXPECT_THAT(output, HasSubstr("verifier key: bay-legal.haven/log+"));
  EXPECT_THAT(output, HasSubstr("-----BEGIN CERTIFICATE REQUEST-----"));
  const std::string master_key = ReadFileOrEmpty(dir + "/master.key");
  const std::string token = ReadFileOrEmpty(dir + "/admin.token");
  ASSERT_EQ(master_key.size(), 65u);
  ASSERT_EQ(token.size(), 65u);
  EXPECT_THAT(output, Not(HasSubstr(master_key.substr(0, 64))));
  EXPECT_THAT(output, Not(HasSubstr(token.substr(0, 64))));
  for (const auto& [file, mode] : std::vector<std::pair<std::string, unsigned>>{
           {"data", 0700},
           {"master.key", 0600},
           {"node.key", 0600},
           {"admin.token", 0600},
           {"node.textproto", 0600}}) {
    struct stat st;
    ASSERT_EQ(stat((dir + "/" + file).c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, mode) << file;
  }

  // Without its certificate the node does not start, and says why.
  EXPECT_NE(RunHavend(dir + "/node.textproto", &output), 0);
  EXPECT_THAT(output, HasSubstr("node.crt"));

  // The CA signs the request as it is (CN and subjectAltName bay-legal).
  const std::string pki = pki_->path();
  ASSERT_EQ(
      RunCommand({"/usr/bin/openssl", "x509", "-req", "-in", dir + "/node.csr",
                  "-CA", pki + "/ca.crt", "-CAkey", pki + "/ca.key",
                  "-CAcreateserial", "-days", "1", "-sha256",
                  "-copy_extensions", "copy", "-out", dir + "/node.crt"},
                 &output),
      0)
      << output;
  std::filesystem::copy_file(pki + "/ca.crt", dir + "/ca.crt");
  // The ports the skeleton names are an agency's choice; here the kernel's.
  std::string config = ReadFileOrEmpty(dir + "/node.textproto");
  config = std::regex_replace(config, std::regex("127\\.0\\.0\\.1:7443"),
                              "127.0.0.1:0");
  config = std::regex_replace(config, std::regex("0\\.0\\.0\\.0:7444"),
                              "127.0.0.1:0");
  std::ofstream(dir + "/node.textproto") << config;

  ASSERT_EQ(
      RunCommand({HavendPath(), "--config", dir + "/node.textproto", "--init"},
                 &output),
      0)
      << output;
  EXPECT_THAT(output, ::testing::ContainsRegex("cert_sha256: [0-9a-f]{64}"));

  Subprocess havend({HavendPath(), "--config", dir + "/node.textproto"},
                    dir + "/havend.out", dir + "/havend.log");
  std::smatch started;
  static const std::regex kStarted(R"(node_started .*local=(\S+))");
  std::string log;
  for (int attempt = 0; attempt < 300; ++attempt) {
    log = ReadFileOrEmpty(dir + "/havend.log");
    if (std::regex_search(log, started, kStarted)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(std::regex_search(log, started, kStarted)) << log;
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ReadFileOrEmpty(dir + "/ca.crt");
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("bay-legal");
  auto channel = grpc::CreateCustomChannel(started[1].str(),
                                           grpc::SslCredentials(tls), args);
  auto admin = haven::v1::AdminService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(In(std::chrono::seconds(10)));
  context.AddMetadata("authorization", "Bearer " + token.substr(0, 64));
  haven::v1::GetStatusResponse status;
  grpc::Status called =
      admin->GetStatus(&context, haven::v1::GetStatusRequest(), &status);
  EXPECT_TRUE(called.ok()) << called.error_message();
  EXPECT_EQ(status.agency_id(), "bay-legal");
  havend.Signal(SIGTERM);
  EXPECT_EQ(havend.Wait(std::chrono::seconds(20)), 0);

  const auto before = Snapshot(dir);
  EXPECT_NE(RunCommand({HavendPath(), "--setup", dir, "--agency", "bay-legal"},
                       &output),
            0);
  EXPECT_THAT(output, HasSubstr("not empty"));
  EXPECT_EQ(Snapshot(dir), before);
  // Nothing is left beside it either.
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    entries +=
        entry.path().filename().string().find(".setup-") != std::string::npos;
  }
  EXPECT_EQ(entries, 0);
}

TEST_F(HavendTest, MalformedConfigNamesFileLineAndField) {
  std::string config = dir_.Join("bad.textproto");
  std::ofstream(config) << "agency_id: \"safe-harbor\"\n"
                        << "listen_adress: \"127.0.0.1:0\"\n";
  std::string output;
  EXPECT_EQ(RunHavend(config, &output), 2);
  EXPECT_THAT(output,
              AllOf(HasSubstr(config + ":2:"), HasSubstr("listen_adress")));
}

TEST_F(HavendTest, SyntaxErrorNamesFileAndLine) {
  std::string config = dir_.Join("bad.textproto");
  std::ofstream(config) << "agency_id: \"safe-harbor\"\n"
                        << "\n"
                        << "tls { cert_file: \"x\" \n";
  std::string output;
  EXPECT_EQ(RunHavend(config, &output), 2);
  EXPECT_THAT(output, HasSubstr(config + ":4:"));
}

TEST_F(HavendTest, WrongValueNamesLineAndField) {
  TestNode node(NodeOptions());
  std::ofstream(node.config_path(), std::ios::app)
      << "listen_address: \"localhost\"\n";
  std::string output;
  EXPECT_EQ(RunHavend(node.config_path(), &output), 2);
  EXPECT_THAT(output, HasSubstr("listen_address"));
  EXPECT_THAT(output, HasSubstr(node.config_path() + ":"));
}

// Bootstrapping a node from scratch: the manifest that will publish the
// node's verifier key cannot exist before --init prints it. --init makes
// the data dir and master key, prints the key, says the database waits
// for the missing manifest, and exits 0; run again, it prints the same
// key and creates nothing new.
TEST_F(HavendTest,
       InitBeforeTheManifestExistsCreatesKeysAndPrintsTheVerifierKey) {
  TestNode::Options options = NodeOptions();
  haven::testing::TestOperatorKey operator_key("test-operator");
  options.extra_config =
      haven::testing::FederationTrustConfig({&operator_key}) +
      "manifest_file: \"federation.textproto\"\n";
  TestNode node(options);
  std::filesystem::remove(node.dir() + "/master.key");
  std::filesystem::remove_all(node.dir() + "/data");
  std::string first;
  ASSERT_EQ(RunCommand({HavendPath(), "--config", node.config_path(), "--init"},
                       &first, std::chrono::seconds(30)),
            0)
      << first;
  EXPECT_THAT(first, HasSubstr("created data dir"));
  EXPECT_THAT(first, HasSubstr("created master key"));
  EXPECT_THAT(first, HasSubstr("federation.textproto"));
  EXPECT_THAT(first, HasSubstr("database not initialised yet"));
  std::smatch key;
  ASSERT_TRUE(std::regex_search(
      first, key,
      std::regex("verifier_key: (safe-harbor\\S+\\+[0-9a-f]{8}\\+\\S+)")))
      << first;
  EXPECT_TRUE(std::filesystem::exists(node.dir() + "/master.key"));

  std::string second;
  ASSERT_EQ(RunCommand({HavendPath(), "--config", node.config_path(), "--init"},
                       &second, std::chrono::seconds(30)),
            0)
      << second;
  EXPECT_THAT(second, HasSubstr("verifier_key: " + key[1].str()));
  EXPECT_THAT(second, Not(HasSubstr("created data dir")));
  EXPECT_THAT(second, Not(HasSubstr("created master key")));
}

TEST_F(HavendTest, MissingMasterKeyFileIsNamed) {
  TestNode node(NodeOptions());
  std::filesystem::remove(node.dir() + "/master.key");
  std::string output;
  EXPECT_NE(RunHavend(node.config_path(), &output), 0);
  EXPECT_THAT(output, AllOf(HasSubstr("master_key_file"),
                            HasSubstr(node.dir() + "/master.key"),
                            HasSubstr("does not exist")));
}

TEST_F(HavendTest, UnreadableDataDirIsNamed) {
  TestNode node(NodeOptions());
  chmod((node.dir() + "/data").c_str(), 0);
  std::string output;
  EXPECT_NE(RunHavend(node.config_path(), &output), 0);
  chmod((node.dir() + "/data").c_str(), 0700);
  EXPECT_THAT(output,
              AllOf(HasSubstr("data_dir"), HasSubstr(node.dir() + "/data"),
                    HasSubstr("not readable and writable")));
}

TEST_F(HavendTest, MissingDataDirIsNamed) {
  TestNode node(NodeOptions());
  std::filesystem::remove_all(node.dir() + "/data");
  std::string output;
  EXPECT_NE(RunHavend(node.config_path(), &output), 0);
  EXPECT_THAT(output,
              AllOf(HasSubstr("data_dir"), HasSubstr("does not exist")));
}

TEST_F(HavendTest, HavenctlHealthExitCodes) {
  TestNode node(NodeOptions());
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  std::string output;
  EXPECT_EQ(node.Havenctl("", {"health", "--json"}, &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("\"status\":\"SERVING\""));
  std::string address = node.local_address();
  EXPECT_EQ(node.Stop(), 0);
  // Same address, node gone: scripts see "unavailable".
  EXPECT_EQ(RunCommand({HavenctlPath(), "--node", address, "--ca",
                        node.ca_file(), "--timeout", "2", "health"},
                       &output),
            3);
  EXPECT_EQ(RunCommand({HavenctlPath(), "no-such-command"}, &output), 2);
  EXPECT_EQ(RunCommand({HavenctlPath(), "--help"}, &output), 0);
  EXPECT_THAT(output, HasSubstr("Exit codes"));
}

}  // namespace
}  // namespace haven::testing

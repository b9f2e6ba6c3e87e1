#include "tests/testing/test_node.h"

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "absl/strings/escaping.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "server/crypto/digest.h"
#include "server/crypto/secret_bytes.h"

namespace haven::testing {
namespace {

namespace fs = std::filesystem;

void WriteFile(const std::string& path, const std::string& content,
               mode_t mode) {
  std::ofstream(path, std::ios::trunc) << content;
  chmod(path.c_str(), mode);
}

}  // namespace

std::string RandomHex(size_t bytes) {
  auto secret = server::crypto::SecretBytes::Random(bytes);
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(secret.data()), secret.size()));
}

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::chrono::system_clock::time_point In(std::chrono::milliseconds delay) {
  return std::chrono::system_clock::now() + delay;
}

std::string HavendPath() { return HAVEN_TEST_HAVEND; }
std::string HavenctlPath() { return HAVEN_TEST_HAVENCTL; }
std::string SourceDir() { return HAVEN_TEST_SOURCE_DIR; }

bool MakeCertificates(const std::string& dir,
                      const std::vector<std::string>& agencies,
                      std::string* error) {
  std::vector<std::string> argv = {"/bin/bash",
                                   SourceDir() + "/deploy/make-certs.sh", dir};
  argv.insert(argv.end(), agencies.begin(), agencies.end());
  std::string output;
  int code = RunCommand(argv, &output);
  if (code != 0 && error != nullptr) *error = output;
  return code == 0;
}

TestNode::TestNode(Options options) : options_(std::move(options)) {
  dir_ = options_.root_dir + "/" + options_.agency_id;
  fs::create_directories(dir_ + "/data");
  chmod((dir_ + "/data").c_str(), 0700);
  config_path_ = dir_ + "/node.textproto";
  log_path_ = dir_ + "/havend.log";
  ca_file_ = options_.pki_dir + "/ca.crt";
  const std::string pki = options_.pki_dir + "/" + options_.agency_id;

  master_key_hex_ = RandomHex(32);
  if (options_.master_key_as_credential) {
    const std::string credentials = dir_ + "/credentials";
    fs::create_directories(credentials);
    WriteFile(credentials + "/haven-master-key", master_key_hex_ + "\n", 0400);
    chmod(credentials.c_str(), 0500);
    credentials_env_ = "CREDENTIALS_DIRECTORY=" + credentials;
  } else {
    WriteFile(dir_ + "/master.key", master_key_hex_ + "\n", 0600);
  }
  std::string config = "agency_id: \"" + options_.agency_id + "\"\n" +
                       "listen_address: \"127.0.0.1:0\"\n";
  if (options_.peer_api) {
    config += "peer_listen_address: \"" + options_.peer_listen_address + "\"\n";
  }
  config += "data_dir: \"data\"\n";
  if (!options_.master_key_as_credential) {
    config += "master_key_file: \"master.key\"\n";
  }
  config += "tls { cert_file: \"" + pki + "/node.crt\" key_file: \"" + pki +
            "/node.key\" ca_file: \"" + ca_file_ + "\" }\n";
  for (const char* role : kRoles) {
    std::string token = RandomHex(32);
    tokens_[role] = token;
    WriteFile(dir_ + "/" + role + ".token", token + "\n", 0600);
    std::string upper = role;
    for (char& c : upper) c = static_cast<char>(toupper(c));
    config += "principals { name: \"" + options_.agency_id + "-" + role +
              "\" role: " + upper + " token_sha256: \"" +
              server::crypto::Sha256Hex(token) + "\" }\n";
  }
  config += options_.extra_config;
  WriteFile(config_path_, config, 0600);
}

TestNode::~TestNode() { Kill(); }

std::shared_ptr<grpc::Channel> TestNode::LocalChannel() const {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ReadFileOrEmpty(ca_file_);
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(options_.agency_id);
  return grpc::CreateCustomChannel(local_address_, grpc::SslCredentials(tls),
                                   args);
}

std::unique_ptr<grpc::ClientContext> TestNode::ClientContext(
    const std::string& role, std::chrono::milliseconds timeout) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(In(timeout));
  context->AddMetadata("authorization", "Bearer " + token(role));
  return context;
}

bool TestNode::Start(std::string* error) {
  // The log is appended to across restarts: read only what this run writes.
  const size_t log_offset = Log().size();
  std::vector<std::string> env = options_.env;
  if (!credentials_env_.empty()) env.push_back(credentials_env_);
  process_ = std::make_unique<Subprocess>(
      std::vector<std::string>{HavendPath(), "--config", config_path_},
      dir_ + "/havend.out", log_path_, env);
  // Bounded wait for the start line; havend writes it once both ports are
  // bound.
  static const std::regex kStarted(R"(node_started .*local=(\S+) peer=(\S+))");
  for (int attempt = 0; attempt < 600; ++attempt) {
    std::smatch match;
    std::string log = Log().substr(log_offset);
    if (std::regex_search(log, match, kStarted)) {
      local_address_ = match[1];
      peer_address_ = match[2] == "disabled" ? "" : std::string(match[2]);
      static const std::regex kMetrics(R"(node_started .* metrics=(\S+))");
      std::smatch metrics;
      metrics_address_ =
          std::regex_search(log, metrics, kMetrics) && metrics[1] != "disabled"
              ? std::string(metrics[1])
              : "";
      return true;
    }
    if (auto code = process_->Wait(std::chrono::milliseconds(50))) {
      if (error)
        *error = "havend exited with " + std::to_string(*code) + ": " + Log();
      return false;
    }
  }
  if (error) *error = "havend did not start within 30 s: " + Log();
  return false;
}

int TestNode::Stop() {
  if (process_ == nullptr) return -1;
  process_->Signal(SIGTERM);
  auto code = process_->Wait(std::chrono::seconds(60));
  return code ? *code : -1;
}

void TestNode::Kill() {
  if (process_ != nullptr) process_.reset();  // SIGKILL + reap
}

std::optional<int> TestNode::WaitForExit(std::chrono::milliseconds timeout) {
  if (process_ == nullptr) return std::nullopt;
  return process_->Wait(timeout);
}

std::string TestNode::token(const std::string& role) const {
  auto it = tokens_.find(role);
  return it == tokens_.end() ? "" : it->second;
}

std::string TestNode::token_file(const std::string& role) const {
  return dir_ + "/" + role + ".token";
}

int TestNode::Havenctl(const std::string& role,
                       const std::vector<std::string>& args,
                       std::string* output) const {
  std::vector<std::string> argv = {
      HavenctlPath(), "--node",        local_address_,    "--ca",
      ca_file_,       "--server-name", options_.agency_id};
  if (!role.empty()) {
    argv.push_back("--token-file");
    argv.push_back(token_file(role));
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, output);
}

std::unique_ptr<TestNode> StartLoneNode(const std::string& root_dir,
                                        const std::string& pki_dir,
                                        std::string* error) {
  TestNode::Options options;
  if (!MakeCertificates(pki_dir, {options.agency_id}, error)) return nullptr;
  options.root_dir = root_dir;
  options.pki_dir = pki_dir;
  options.peer_api = false;
  auto node = std::make_unique<TestNode>(options);
  if (!node->Start(error)) return nullptr;
  return node;
}

}  // namespace haven::testing

#include "tests/testing/test_federation.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <utility>

#include "server/federation/peer_identity.h"
#include "tests/testing/subprocess.h"

namespace haven::testing {

std::vector<int> PickFreeLoopbackPorts(int count) {
  // Every socket stays bound until all are picked, so the ports differ.
  std::vector<int> sockets;
  std::vector<int> ports;
  for (int i = 0; i < count; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    sockets.push_back(fd);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      break;
    }
    ports.push_back(ntohs(address.sin_port));
  }
  for (int fd : sockets) close(fd);
  if (static_cast<int>(ports.size()) != count) return {};
  return ports;
}

TestFederation::TestFederation(std::string root_dir)
    : root_dir_(std::move(root_dir)),
      pki_dir_(root_dir_ + "/pki"),
      manifest_path_(root_dir_ + "/federation.textproto") {}

TestFederation::~TestFederation() = default;

bool TestFederation::Create(const std::vector<Member>& members,
                            std::string* error) {
  members_ = members;
  std::vector<std::string> agencies;
  for (const Member& member : members_) agencies.push_back(member.agency_id);
  if (!MakeCertificates(pki_dir_, agencies, error)) return false;
  std::vector<int> ports = PickFreeLoopbackPorts(members_.size());
  if (ports.size() != members_.size()) {
    if (error) *error = "cannot pick free loopback ports";
    return false;
  }

  std::ostringstream manifest;
  manifest << "federation: \"test-task-force\"\nserial: 1\n";
  static const std::regex kVerifierKey(R"((^|\n)verifier_key: (\S+))");
  for (size_t i = 0; i < members_.size(); ++i) {
    const Member& member = members_[i];
    const std::string endpoint = "127.0.0.1:" + std::to_string(ports[i]);
    TestNode::Options options;
    options.agency_id = member.agency_id;
    options.root_dir = root_dir_;
    options.pki_dir = pki_dir_;
    options.peer_listen_address = endpoint;
    if (!member.policy_file.empty()) {
      options.extra_config += "policy_file: \"" + member.policy_file + "\"\n";
    }
    options.extra_config += extra_config_;
    options.extra_config += FederationTrustConfig({&operator_key_});
    options.extra_config += "manifest_file: \"" + manifest_path_ + "\"\n";
    auto node = std::make_unique<TestNode>(options);

    // The manifest does not exist yet: initialise from the same config
    // without it (same directory, so relative paths resolve alike).
    std::istringstream config(ReadFileOrEmpty(node->config_path()));
    std::string init_config;
    for (std::string line; std::getline(config, line);) {
      if (line.rfind("manifest_file:", 0) != 0) init_config += line + "\n";
    }
    const std::string init_path = node->dir() + "/init.textproto";
    std::ofstream(init_path, std::ios::trunc) << init_config;
    chmod(init_path.c_str(), 0600);
    std::string output;
    int code =
        RunCommand({HavendPath(), "--config", init_path, "--init"}, &output);
    std::smatch match;
    if (code != 0 || !std::regex_search(output, match, kVerifierKey)) {
      if (error) {
        *error = "havend --init for " + member.agency_id + " exited with " +
                 std::to_string(code) + ": " + output;
      }
      return false;
    }
    verifier_keys_[member.agency_id] = match[2];

    auto fingerprint = server::federation::CertificateFingerprint(
        ReadFileOrEmpty(pki_dir_ + "/" + member.agency_id + "/node.crt"));
    if (!fingerprint.ok()) {
      if (error) *error = std::string(fingerprint.status().message());
      return false;
    }
    manifest << "members {\n"
             << "  agency_id: \"" << member.agency_id << "\"\n"
             << "  name: \"" << member.agency_id << "\"\n"
             << "  sector: " << member.sector << "\n"
             << "  endpoint: \"" << endpoint << "\"\n"
             << "  cert_sha256: \"" << *fingerprint << "\"\n"
             << "  verifier_key: \"" << match[2] << "\"\n"
             << "  status: MEMBER_ACTIVE\n}\n";
    nodes_[member.agency_id] = std::move(node);
  }
  WriteManifest(manifest.str());
  return true;
}

void TestFederation::WriteManifest(const std::string& text) {
  manifest_text_ = text;
  std::ofstream(manifest_path_, std::ios::trunc) << operator_key_.Sign(text);
}

bool TestFederation::Start(std::string* error) {
  for (const Member& member : members_) {
    if (!nodes_.at(member.agency_id)->Start(error)) return false;
  }
  return true;
}

TestNode& TestFederation::node(const std::string& agency_id) const {
  return *nodes_.at(agency_id);
}

std::string TestFederation::verifier_key(const std::string& agency_id) const {
  auto it = verifier_keys_.find(agency_id);
  return it == verifier_keys_.end() ? "" : it->second;
}

std::string TestFederation::master_key_file(
    const std::string& agency_id) const {
  return node(agency_id).dir() + "/master.key";
}

TestFederation::Member ExampleMember(const std::string& agency_id,
                                     const std::string& sector) {
  return {agency_id, sector,
          SourceDir() + "/policy/examples/" + agency_id + ".textproto"};
}

}  // namespace haven::testing

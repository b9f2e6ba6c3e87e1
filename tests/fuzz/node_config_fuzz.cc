// Fuzz target: havend's configuration file (server/node/config.h) on
// arbitrary text, through ParseConfig, which LoadConfig runs on the file it
// read. Besides never crashing: a config that parses has every required
// field, every path it names is absolute (resolved against the config
// file's directory), and, printed again, it parses to the same.
#include <cstddef>
#include <cstdint>
#include <string>

#include "google/protobuf/text_format.h"
#include "haven/v1/config.pb.h"
#include "server/node/config.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

constexpr char kPath[] = "/etc/haven/havend.textproto";

bool EmptyOrAbsolute(const std::string& path) {
  return path.empty() || path[0] == '/';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using haven::fuzz::FuzzCheck;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto loaded = haven::server::node::ParseConfig(text, kPath);
  if (!loaded.ok()) return 0;
  const haven::v1::NodeConfig& c = loaded->config;
  FuzzCheck(
      !c.agency_id().empty() && !c.listen_address().empty() && c.has_tls(),
      "a parsed config has its required fields");
  for (const std::string* path :
       {&c.data_dir(), &c.master_key_file(), &c.tls().cert_file(),
        &c.tls().key_file(), &c.tls().ca_file()}) {
    FuzzCheck(!path->empty() && (*path)[0] == '/',
              "a parsed config's required paths are absolute");
  }
  FuzzCheck(
      EmptyOrAbsolute(c.manifest_file()) && EmptyOrAbsolute(c.policy_file()),
      "a parsed config's optional paths are absolute");
  for (const auto& [field, where] : loaded->locations) {
    (void)loaded->Where(field);
  }

  std::string printed;
  FuzzCheck(google::protobuf::TextFormat::PrintToString(c, &printed),
            "a config prints");
  auto again = haven::server::node::ParseConfig(printed, kPath);
  FuzzCheck(
      again.ok() && again->config.SerializeAsString() == c.SerializeAsString(),
      "a printed config parses to the same");
  return 0;
}

// Loading and checking havend's configuration file (haven.v1.NodeConfig in
// protobuf text format).
//
// Every error names the file, the line (when the value is present) and the
// field, so an operator can fix it without reading code. Relative paths in
// the file are resolved against the file's own directory.
#ifndef HAVEN_SERVER_NODE_CONFIG_H_
#define HAVEN_SERVER_NODE_CONFIG_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "haven/v1/config.pb.h"

namespace haven::server::node {

// A parsed configuration plus where each value came from.
struct LoadedConfig {
  haven::v1::NodeConfig config;  // paths already made absolute
  std::string path;              // the config file itself
  // "path:line" of each top-level field that was set (for later messages),
  // keyed by field path such as "data_dir" or "tls.cert_file".
  std::map<std::string, std::string> locations;

  // "file:line: field: " prefix for a message about `field_path`.
  std::string Where(const std::string& field_path) const;
};

// Parses and validates the file's syntax and required fields. Does not touch
// the files it names (see CheckConfigFiles). INVALID_ARGUMENT with
// "file:line:column: ..." on a syntax error or unknown field;
// INVALID_ARGUMENT naming the field for a missing or malformed value, for
// a metrics_listen_address that is not loopback (plain HTTP), or for
// a principal whose name or token_sha256 an earlier one already has;
// NOT_FOUND if the config file itself cannot be read.
absl::StatusOr<LoadedConfig> LoadConfig(const std::string& path);

// What LoadConfig does once it has read the file: parses and validates
// `text` as the contents of the config file at `path`, which names the file
// in messages and is the base of relative paths. Reads no file.
absl::StatusOr<LoadedConfig> ParseConfig(const std::string& text,
                                         const std::string& path);

// Checks that what the config names exists and is usable: the data dir is a
// directory the node can read and write, the master key file exists and is
// readable, the TLS files are readable and the TLS private key grants no
// access to group or others. FAILED_PRECONDITION naming the file,
// line, field and path on the first problem.
absl::Status CheckConfigFiles(const LoadedConfig& loaded);

}  // namespace haven::server::node

#endif  // HAVEN_SERVER_NODE_CONFIG_H_

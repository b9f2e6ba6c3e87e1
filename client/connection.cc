#include "client/connection.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace haven::client {

absl::StatusOr<std::unique_ptr<Connection>> Connection::Create(
    ConnectionOptions options) {
  grpc::SslCredentialsOptions tls;
  if (!options.ca_file.empty()) {
    std::ifstream in(options.ca_file);
    if (!in) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot read CA file ", options.ca_file));
    }
    std::stringstream pem;
    pem << in.rdbuf();
    tls.pem_root_certs = pem.str();
  }
  grpc::ChannelArguments args;
  if (!options.server_name.empty()) {
    args.SetSslTargetNameOverride(options.server_name);
  }
  auto channel = grpc::CreateCustomChannel(options.address,
                                           grpc::SslCredentials(tls), args);
  return std::unique_ptr<Connection>(
      new Connection(std::move(options), std::move(channel)));
}

std::unique_ptr<grpc::ClientContext> Connection::NewContext() const {
  return NewContext(std::chrono::system_clock::now() + options_.timeout);
}

std::unique_ptr<grpc::ClientContext> Connection::NewContext(
    std::chrono::system_clock::time_point deadline) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(deadline);
  if (!options_.token.empty()) {
    context->AddMetadata("authorization", "Bearer " + options_.token);
  }
  return context;
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read token file ", path));
  }
  std::string line;
  std::getline(in, line);
  std::string token(absl::StripAsciiWhitespace(line));
  if (token.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("token file ", path, " is empty"));
  }
  return token;
}

}  // namespace haven::client

// haven-console: the web console for advocates, auditors and caseworkers.
// One more client of the node's local API: it serves pages over HTTPS and
// passes each person's calls to the node with their own session. It holds
// no node secret (README, "Console"; SECURITY.md).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "client/cli/args.h"
#include "client/connection.h"
#include "client/console/console_server.h"
#include "client/console/node_bridge.h"
#include "client/console/static_files.h"

#ifndef HAVEN_VERSION
#define HAVEN_VERSION "0.0.0"
#endif
#ifndef HAVEN_CONSOLE_STATIC_DIR
#define HAVEN_CONSOLE_STATIC_DIR "/usr/share/haven/console"
#endif

namespace {

constexpr char kHelp[] = R"(haven-console %s: the Haven web console.

Usage: haven-console --tls-cert FILE --tls-key FILE --node-ca FILE [flags]

  --listen HOST:PORT        where to serve HTTPS (default 127.0.0.1:8443;
                            port 0 picks a free port, printed at start)
  --tls-cert FILE           the console's own HTTPS certificate chain (PEM)
  --tls-key FILE            its private key (PEM); not a node key
  --node HOST:PORT          the node's local API (default 127.0.0.1:7441)
  --node-ca FILE            CA certificate that issued the node's certificate
  --node-name NAME          name expected in the node's certificate
                            (default: the host part of --node)
  --node-verifier-key KEY   the node's checkpoint verifier key as written in
                            the federation manifest; repeatable (old and new
                            keys during a rotation). Given to the auditor
                            page, which verifies checkpoints in the browser
                            against these keys, not against what the node says
  --static-dir DIR          the pages (default %s)
  --timeout SECONDS         deadline of each call to the node (default 10)
  --help                    this help

It holds no node secret: no master key, no node TLS key, no data dir. Run it
as its own user. People sign in with their own account on the node
(havenctl admin user add); their session lives in a cookie that only the
browser and this process see.
)";

haven::client::console::ConsoleServer* g_server = nullptr;

void OnSignal(int) {
  if (g_server != nullptr) g_server->Stop();
}

}  // namespace

int main(int argc, char** argv) {
  using haven::client::cli::Args;
  namespace console = haven::client::console;
  auto args = Args::Parse(argc, argv, {"help"});
  if (!args.ok()) {
    std::fprintf(stderr, "haven-console: %s\n",
                 std::string(args.status().message()).c_str());
    return 2;
  }
  if (args->Has("help")) {
    std::printf(kHelp, HAVEN_VERSION, HAVEN_CONSOLE_STATIC_DIR);
    return 0;
  }
  const std::set<std::string> known = {
      "listen",    "tls-cert",          "tls-key",    "node",    "node-ca",
      "node-name", "node-verifier-key", "static-dir", "timeout", "help"};
  for (const std::string& flag : args->Unknown(known)) {
    std::fprintf(stderr, "haven-console: unknown flag --%s (see --help)\n",
                 flag.c_str());
    return 2;
  }
  if (!args->positional().empty()) {
    std::fprintf(stderr, "haven-console: unexpected argument '%s'\n",
                 args->positional().front().c_str());
    return 2;
  }
  for (const char* required : {"tls-cert", "tls-key", "node-ca"}) {
    if (!args->Has(required)) {
      std::fprintf(stderr, "haven-console: --%s is required (see --help)\n",
                   required);
      return 2;
    }
  }
  int timeout_seconds = 10;
  if (args->Has("timeout") &&
      (!absl::SimpleAtoi(*args->Get("timeout"), &timeout_seconds) ||
       timeout_seconds <= 0)) {
    std::fprintf(stderr, "haven-console: --timeout needs a positive number\n");
    return 2;
  }

  haven::client::ConnectionOptions node;
  node.address = args->GetOr("node", "127.0.0.1:7441");
  node.ca_file = *args->Get("node-ca");
  node.server_name = args->GetOr("node-name", "");
  node.timeout = std::chrono::seconds(timeout_seconds);
  auto bridge = console::NodeBridge::Create(node);
  if (!bridge.ok()) {
    std::fprintf(stderr, "haven-console: %s\n",
                 std::string(bridge.status().message()).c_str());
    return 1;
  }
  auto files = console::StaticFiles::Load(
      args->GetOr("static-dir", HAVEN_CONSOLE_STATIC_DIR));
  if (!files.ok()) {
    std::fprintf(stderr, "haven-console: %s\n",
                 std::string(files.status().message()).c_str());
    return 1;
  }
  console::ConsoleOptions options;
  options.listen = args->GetOr("listen", "127.0.0.1:8443");
  options.tls_cert = *args->Get("tls-cert");
  options.tls_key = *args->Get("tls-key");
  options.verifier_keys = args->GetAll("node-verifier-key");
  auto server = console::ConsoleServer::Create(
      std::move(options), std::move(*bridge), std::move(*files));
  if (!server.ok()) {
    std::fprintf(stderr, "haven-console: %s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  g_server = server->get();
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::printf("haven-console listening on https://%s\n",
              (*server)->address().c_str());
  std::fflush(stdout);
  const bool ok = (*server)->Run();
  g_server = nullptr;
  return ok ? 0 : 1;
}

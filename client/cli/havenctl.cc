// havenctl: the command line for agency IT, advocates, auditors and node
// operators. Usage: havenctl [global flags] <noun> [<verb>] [flags].
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/args.h"
#include "client/cli/command.h"
#include "client/cli/commands.h"
#include "client/connection.h"
#include "client/node_client.h"

#ifndef HAVEN_VERSION
#define HAVEN_VERSION "0.0.0"
#endif

namespace haven::client::cli {

namespace {

const std::set<std::string> kGlobalFlags = {
    "node", "ca", "server-name", "token-file", "timeout", "json", "help"};
const std::set<std::string> kBooleanFlags = {"json",        "help",  "follow",
                                             "break-glass", "plain", "all"};

constexpr char kGlobalHelp[] = R"(Global flags (any position):
  --node HOST:PORT     node's local API (default $HAVEN_NODE or 127.0.0.1:7441)
  --ca FILE            task-force CA certificate (default $HAVEN_CA)
  --server-name NAME   name expected in the node's certificate (default: host)
  --token-file FILE    bearer token of your principal (default $HAVEN_TOKEN_FILE)
  --timeout SECONDS    deadline per call (default 10)
  --json               machine-readable output, one JSON document per line
  --help               help for any command

Exit codes: 0 ok, 1 the node refused or failed, 2 usage error,
3 node unreachable or not serving, 4 verification failed.
)";

std::vector<Command> AllCommands() {
  std::vector<Command> all;
  for (auto group :
       {HealthCommands, WitnessCommands, RecordsCommands, AdminCommands,
        UserCommands, AccountCommands, AuditCommands, ReportCommands,
        BundleCommands, ConsentCommands, ReceiptCommands, ExchangeCommands,
        PolicyCommands, FederationCommands}) {
    for (auto& command : group()) all.push_back(std::move(command));
  }
  return all;
}

void PrintTopHelp(const std::vector<Command>& commands) {
  std::printf(
      "havenctl %s: command line for a Haven node.\n\n"
      "Usage: havenctl [global flags] <noun> [<verb>] [flags]\n\n"
      "Commands:\n",
      HAVEN_VERSION);
  for (const Command& c : commands) {
    std::string name = c.verb.empty() ? c.noun : c.noun + " " + c.verb;
    std::printf("  %-24s %s\n", name.c_str(), c.summary.c_str());
  }
  std::printf("  %-24s %s\n\n%s", "version", "print the version", kGlobalHelp);
}

void PrintCommandHelp(const Command& c) {
  std::printf("%s\n\n%s\n\n%s", c.summary.c_str(), c.usage.c_str(),
              kGlobalHelp);
}

std::string Env(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return (value != nullptr && *value != '\0') ? value : fallback;
}

}  // namespace

int Main(int argc, char** argv) {
  auto parsed = Args::Parse(argc, argv, kBooleanFlags);
  if (!parsed.ok()) {
    std::fprintf(stderr, "havenctl: %s\n",
                 std::string(parsed.status().message()).c_str());
    return kExitUsage;
  }
  const Args& args = *parsed;
  std::vector<Command> commands = AllCommands();
  const auto& words = args.positional();

  if (words.empty()) {
    PrintTopHelp(commands);
    return args.Has("help") ? kExitOk : kExitUsage;
  }
  if (words[0] == "version") {
    std::printf("havenctl %s\n", HAVEN_VERSION);
    return kExitOk;
  }
  if (words[0] == "help") {
    PrintTopHelp(commands);
    return kExitOk;
  }

  // Find the command: "noun verb" first, then a one-word "noun".
  const Command* match = nullptr;
  size_t consumed = 0;
  std::vector<const Command*> same_noun;
  for (const Command& c : commands) {
    if (c.noun != words[0]) continue;
    same_noun.push_back(&c);
    if (c.verb.empty()) {
      if (match == nullptr) {
        match = &c;
        consumed = 1;
      }
    } else if (words.size() > 1 && c.verb == words[1]) {
      match = &c;
      consumed = 2;
    }
  }
  if (match == nullptr) {
    if (same_noun.empty()) {
      std::fprintf(stderr,
                   "havenctl: unknown command '%s' (see havenctl --help)\n",
                   words[0].c_str());
      return kExitUsage;
    }
    std::printf("havenctl %s <verb>:\n", words[0].c_str());
    for (const Command* c : same_noun) {
      std::printf("  %-24s %s\n", (c->noun + " " + c->verb).c_str(),
                  c->summary.c_str());
    }
    bool asked = args.Has("help") || words.size() == 1;
    if (words.size() > 1) {
      std::fprintf(stderr, "havenctl: unknown verb '%s'\n", words[1].c_str());
    }
    return asked && words.size() == 1 && args.Has("help") ? kExitOk
                                                          : kExitUsage;
  }
  if (args.Has("help")) {
    PrintCommandHelp(*match);
    return kExitOk;
  }
  std::set<std::string> known = kGlobalFlags;
  known.insert(match->flags.begin(), match->flags.end());
  if (auto unknown = args.Unknown(known); !unknown.empty()) {
    std::fprintf(stderr, "havenctl: unknown flag --%s for '%s' (see --help)\n",
                 unknown[0].c_str(), words[0].c_str());
    return kExitUsage;
  }
  (void)consumed;

  std::unique_ptr<NodeClient> client;
  Invocation invocation{args, args.Has("json"), nullptr};
  invocation.client = [&]() -> absl::StatusOr<const NodeClient*> {
    if (client != nullptr) return client.get();
    ConnectionOptions options;
    options.address = args.GetOr("node", Env("HAVEN_NODE", options.address));
    options.ca_file = args.GetOr("ca", Env("HAVEN_CA", ""));
    options.server_name = args.GetOr("server-name", "");
    if (options.server_name.empty()) {
      options.server_name =
          options.address.substr(0, options.address.rfind(':'));
    }
    std::string token_file =
        args.GetOr("token-file", Env("HAVEN_TOKEN_FILE", ""));
    if (!token_file.empty()) {
      auto token = ReadTokenFile(token_file);
      if (!token.ok()) return token.status();
      options.token = *std::move(token);
    }
    int timeout_seconds = 10;
    if (auto t = args.Get("timeout");
        t &&
        (!absl::SimpleAtoi(*t, &timeout_seconds) || timeout_seconds <= 0)) {
      return absl::InvalidArgumentError(
          "--timeout must be a positive number of seconds");
    }
    options.timeout = std::chrono::seconds(timeout_seconds);
    auto created = NodeClient::Create(std::move(options));
    if (!created.ok()) return created.status();
    client = *std::move(created);
    return client.get();
  };
  return match->run(invocation);
}

}  // namespace haven::client::cli

int main(int argc, char** argv) { return haven::client::cli::Main(argc, argv); }

// Load generator for the exchange between agencies. Starts a two-agency
// federation (safe-harbor holds, legal-aid asks) of real havend processes on
// 127.0.0.1 and, in the same run, drives at 1, 16 and 64 concurrent callers:
//   - disclosures: legal-aid's ExchangeService.RequestDisclosure, i.e. the
//     full path: token check, signed request over mutual TLS, the holder's
//     policy decision, vault decryption and durable audit entry, the
//     requester's verification and durable receipt entry;
//   - echo: PeerService.Echo on the holder's peer API over mutual TLS with
//     legal-aid's certificate, the same TLS settings as the inter-node hop.
// Prints throughput, p50 and p99 of each and the disclosure/echo ratio
// (target at 64 callers: >= 0.3), and the CPU time one call of each kind
// cost in each process (the machine is shared by all three, so this is
// where a ratio is won or lost). Each level connects its callers first,
// then runs a bounded number of short rounds, alternating the two kinds.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "haven/v1/consent.grpc.pb.h"
#include "haven/v1/exchange.grpc.pb.h"
#include "haven/v1/records.grpc.pb.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_federation.h"

namespace haven::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Each level runs kRounds rounds of disclosures then echoes.
constexpr int kRounds = 3;
constexpr std::chrono::milliseconds kRoundDuration{1000};

struct Result {
  double per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
  int errors = 0;
};

// Prints the first failure of a run, so errors in the table can be told
// apart (overload, a crashed node, a refused request).
void ReportFirstError(const char* rpc, const grpc::Status& status) {
  static std::atomic<bool> reported{false};
  if (reported.exchange(true)) return;
  std::fprintf(stderr, "first %s error: code %d: %s\n", rpc,
               static_cast<int>(status.error_code()),
               status.error_message().c_str());
}

using Call = std::function<bool()>;

// CPU seconds (user + system) used so far by process `pid` (0: this one),
// from /proc; 0 if it cannot be read.
double CpuSeconds(pid_t pid) {
  std::string stat = ReadFileOrEmpty(
      pid == 0 ? "/proc/self/stat" : "/proc/" + std::to_string(pid) + "/stat");
  // Fields after the command name, which is in parentheses and may hold
  // spaces: state is field 3, utime 14, stime 15.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i >= 14) ticks += std::atof(field.c_str());
  }
  return ticks / sysconf(_SC_CLK_TCK);
}

// The processes whose CPU time is counted: this load generator, then the
// nodes.
struct Processes {
  std::vector<std::string> names;
  std::vector<pid_t> pids;

  std::vector<double> Cpu() const {
    std::vector<double> out;
    for (pid_t pid : pids) out.push_back(CpuSeconds(pid));
    return out;
  }
};

// Latencies and errors of one kind of call, and the CPU time each process
// used while it ran, summed over rounds.
struct Tally {
  std::vector<double> latencies_us;
  int errors = 0;
  std::chrono::duration<double> measured{0};
  std::vector<double> cpu_seconds;

  Result Summary() {
    std::sort(latencies_us.begin(), latencies_us.end());
    Result r;
    r.errors = errors;
    if (latencies_us.empty() || measured.count() <= 0) return r;
    const size_t n = latencies_us.size();
    r.per_second = n / measured.count();
    r.p50_us = latencies_us[n / 2];
    r.p99_us = latencies_us[std::min(n - 1, n * 99 / 100)];
    return r;
  }
};

// Runs each of `calls` in its own thread for `duration`, adding to `tally`.
void Drive(std::vector<Call>& calls, std::chrono::milliseconds duration,
           const Processes& processes, Tally* tally) {
  const std::vector<double> cpu_before = processes.Cpu();
  std::vector<std::vector<double>> latencies(calls.size());
  std::atomic<int> errors{0};
  const auto start = Clock::now();
  const auto deadline = start + duration;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < calls.size(); ++i) {
    threads.emplace_back([&, i] {
      while (Clock::now() < deadline) {
        auto begin = Clock::now();
        if (!calls[i]()) ++errors;
        latencies[i].push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - begin)
                .count());
      }
    });
  }
  for (auto& t : threads) t.join();
  tally->measured += Clock::now() - start;
  const std::vector<double> cpu_after = processes.Cpu();
  tally->cpu_seconds.resize(cpu_after.size());
  for (size_t i = 0; i < cpu_after.size(); ++i) {
    tally->cpu_seconds[i] += cpu_after[i] - cpu_before[i];
  }
  tally->errors += errors;
  for (auto& l : latencies) {
    tally->latencies_us.insert(tally->latencies_us.end(), l.begin(), l.end());
  }
}

// Where the CPU time of one call went, in microseconds per process.
void PrintCpuPerCall(int callers, const char* rpc, const Processes& processes,
                     const Tally& tally) {
  const double calls = static_cast<double>(tally.latencies_us.size());
  if (calls == 0) return;
  double total = 0;
  std::string split;
  for (size_t i = 0; i < tally.cpu_seconds.size(); ++i) {
    const double us = tally.cpu_seconds[i] * 1e6 / calls;
    total += us;
    split += " " + processes.names[i] + " " + std::to_string(std::lround(us));
  }
  std::printf("%-8d %-11s cpu us per call: %.0f (%s )\n", callers, rpc, total,
              split.c_str());
}

// Makes `callers` calls of one kind, each on its own channel, and makes
// one call on each so that connections are up before anything is timed.
std::vector<Call> Connect(int callers, const std::function<Call()>& make) {
  std::vector<Call> calls;
  for (int i = 0; i < callers; ++i) {
    calls.push_back(make());
    calls.back()();
  }
  return calls;
}

// Usage: exchange_load [CALLERS...]   (default: 1 16 64)
int Main(int argc, char** argv) {
  std::vector<int> levels;
  for (int i = 1; i < argc; ++i) {
    int callers = std::atoi(argv[i]);
    if (callers < 1 || callers > 256) {
      std::fprintf(stderr, "usage: exchange_load [CALLERS (1..256)...]\n");
      return 2;
    }
    levels.push_back(callers);
  }
  if (levels.empty()) levels = {1, 16, 64};
  TempDir dir;
  TestFederation federation(dir.path());
  std::string error;
  const std::string policies = SourceDir() + "/policy/examples/";
  if (!federation.Create(
          {{"safe-harbor", "VICTIM_SERVICES",
            policies + "safe-harbor.textproto"},
           {"legal-aid", "LEGAL_SERVICES", policies + "legal-aid.textproto"}},
          &error) ||
      !federation.Start(&error)) {
    std::fprintf(stderr, "federation did not start: %s\n", error.c_str());
    return 1;
  }
  TestNode& holder = federation.node("safe-harbor");
  TestNode& requester = federation.node("legal-aid");

  // A survivor at the holder with a consent for legal-aid.
  auto holder_channel = holder.LocalChannel();
  auto records = haven::v1::RecordService::NewStub(holder_channel);
  auto consent = haven::v1::ConsentService::NewStub(holder_channel);
  std::string subject;
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + holder.token("caseworker"));
    haven::v1::CreateSubjectResponse created;
    if (!records->CreateSubject(&ctx, {}, &created).ok()) return 1;
    subject = created.subject_id();
    grpc::ClientContext put_ctx;
    put_ctx.AddMetadata("authorization",
                        "Bearer " + holder.token("caseworker"));
    haven::v1::PutRecordRequest put;
    put.set_subject_id(subject);
    for (auto [name, category] : {std::pair{"phone", haven::v1::CONTACT},
                                  std::pair{"visa", haven::v1::IMMIGRATION}}) {
      auto* f = put.add_fields();
      f->set_name(name);
      f->set_category(category);
      f->set_value(std::string(1024, 'x'));
    }
    haven::v1::PutRecordResponse put_response;
    if (!records->PutRecord(&put_ctx, put, &put_response).ok()) return 1;
    grpc::ClientContext consent_ctx;
    consent_ctx.AddMetadata("authorization",
                            "Bearer " + holder.token("advocate"));
    haven::v1::RecordConsentRequest record;
    auto* c = record.mutable_consent();
    c->set_subject_id(subject);
    c->mutable_grantee()->set_agency_id("legal-aid");
    c->add_purposes(haven::v1::LEGAL_REPRESENTATION);
    c->add_categories(haven::v1::CONTACT);
    c->add_categories(haven::v1::IMMIGRATION);
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    c->mutable_valid()->set_from_unix(now - 60);
    c->mutable_valid()->set_until_unix(now + 86400);
    haven::v1::RecordConsentResponse receipt;
    grpc::Status s = consent->RecordConsent(&consent_ctx, record, &receipt);
    if (!s.ok()) {
      std::fprintf(stderr, "consent: %s\n", s.error_message().c_str());
      return 1;
    }
  }
  std::string handle;
  auto exchange_setup =
      haven::v1::ExchangeService::NewStub(requester.LocalChannel());
  for (int i = 0; i < 100 && handle.empty(); ++i) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + requester.token("caseworker"));
    haven::v1::ListHandlesResponse handles;
    if (exchange_setup->ListHandles(&ctx, {}, &handles).ok() &&
        handles.handles_size() > 0) {
      handle = handles.handles(0).handle();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  if (handle.empty()) {
    std::fprintf(stderr, "legal-aid never received a handle\n");
    return 1;
  }

  const std::string token = requester.token("caseworker");
  auto disclosure_caller = [&]() -> Call {
    auto stub = haven::v1::ExchangeService::NewStub(requester.LocalChannel());
    return [stub = std::shared_ptr<haven::v1::ExchangeService::Stub>(
                std::move(stub)),
            &handle, &token]() {
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", "Bearer " + token);
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
      haven::v1::RequestDisclosureRequest request;
      request.set_holder_agency_id("safe-harbor");
      request.set_handle(handle);
      request.set_purpose(haven::v1::LEGAL_REPRESENTATION);
      request.add_categories(haven::v1::CONTACT);
      request.add_categories(haven::v1::IMMIGRATION);
      haven::v1::RequestDisclosureResponse response;
      grpc::Status status = stub->RequestDisclosure(&ctx, request, &response);
      if (!status.ok()) ReportFirstError("disclosure", status);
      return status.ok() && response.fields_size() == 2;
    };
  };
  const std::string pki = federation.pki_dir();
  auto echo_caller = [&]() -> Call {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = ReadFileOrEmpty(pki + "/ca.crt");
    tls.pem_cert_chain = ReadFileOrEmpty(pki + "/legal-aid/node.crt");
    tls.pem_private_key = ReadFileOrEmpty(pki + "/legal-aid/node.key");
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("safe-harbor");
    std::shared_ptr<haven::v1::PeerService::Stub> stub =
        haven::v1::PeerService::NewStub(grpc::CreateCustomChannel(
            holder.peer_address(), grpc::SslCredentials(tls), args));
    return [stub]() {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
      haven::v1::EchoRequest request;
      request.set_payload(std::string(2048, 'x'));
      haven::v1::EchoResponse response;
      grpc::Status status = stub->Echo(&ctx, request, &response);
      if (!status.ok()) ReportFirstError("echo", status);
      return status.ok();
    };
  };

  const Processes processes{{"load-generator", "safe-harbor", "legal-aid"},
                            {0, holder.pid(), requester.pid()}};
  std::printf(
      "exchange load: safe-harbor holds, legal-aid asks; 127.0.0.1, mutual "
      "TLS\n");
  std::printf("%-8s %-11s %12s %10s %10s %7s\n", "callers", "rpc", "per second",
              "p50 us", "p99 us", "errors");
  double last_ratio = 0;
  for (int callers : levels) {
    std::vector<Call> disclosures = Connect(callers, disclosure_caller);
    std::vector<Call> echoes = Connect(callers, echo_caller);
    // Short alternating rounds, so that a slow spell of the machine falls
    // on both kinds of call rather than on one.
    Tally disclose_tally;
    Tally echo_tally;
    for (int round = 0; round < kRounds; ++round) {
      Drive(disclosures, kRoundDuration, processes, &disclose_tally);
      Drive(echoes, kRoundDuration, processes, &echo_tally);
    }
    Result disclose = disclose_tally.Summary();
    Result echo = echo_tally.Summary();
    std::printf("%-8d %-11s %12.0f %10.0f %10.0f %7d\n", callers, "disclosure",
                disclose.per_second, disclose.p50_us, disclose.p99_us,
                disclose.errors);
    std::printf("%-8d %-11s %12.0f %10.0f %10.0f %7d\n", callers, "echo",
                echo.per_second, echo.p50_us, echo.p99_us, echo.errors);
    last_ratio =
        echo.per_second > 0 ? disclose.per_second / echo.per_second : 0;
    std::printf("%-8d ratio disclosure/echo throughput: %.3f\n", callers,
                last_ratio);
    PrintCpuPerCall(callers, "disclosure", processes, disclose_tally);
    PrintCpuPerCall(callers, "echo", processes, echo_tally);
  }
  std::printf("exchange: ratio at %d callers %.3f (target at 64: >= 0.3)\n",
              levels.back(), last_ratio);
  return 0;
}

}  // namespace
}  // namespace haven::testing

int main(int argc, char** argv) { return haven::testing::Main(argc, argv); }

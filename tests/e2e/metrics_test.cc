// The Prometheus endpoint of real havend processes: safe-harbor (holder) and
// legal-aid (requester) each serve /metrics on 127.0.0.1:0. The test scrapes
// both before and during a load of disclosure requests (some disclosed,
// some refused), parses every scrape with python3-prometheus-client's own
// parser (tests/e2e/python/parse_metrics.py, run by Debian's python3), and
// checks that the counters rose as the requests were made and that no
// scrape holds a subject id, handle, consent id, token or record content.
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/testing/federation_calls.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_federation.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kHolder[] = "safe-harbor";
constexpr char kLegalAid[] = "legal-aid";
constexpr char kMetricsOnAnyPort[] =
    "metrics_listen_address: \"127.0.0.1:0\"\n";

// One parsed scrape: the raw text and each sample by its canonical key,
// `name{label="value",...}` with labels in name order.
struct Scrape {
  std::string text;
  std::map<std::string, double> samples;

  double Get(const std::string& name,
             const std::map<std::string, std::string>& labels = {}) const {
    std::vector<std::string> parts;
    for (const auto& [k, v] : labels)
      parts.push_back(absl::StrCat(k, "=\"", v, "\""));
    auto it =
        samples.find(absl::StrCat(name, "{", absl::StrJoin(parts, ","), "}"));
    return it == samples.end() ? 0 : it->second;
  }
  bool Has(const std::string& name,
           const std::map<std::string, std::string>& labels = {}) const {
    std::vector<std::string> parts;
    for (const auto& [k, v] : labels)
      parts.push_back(absl::StrCat(k, "=\"", v, "\""));
    return samples.count(
               absl::StrCat(name, "{", absl::StrJoin(parts, ","), "}")) > 0;
  }
};

class MetricsTest : public ::testing::Test, public FederationCalls {
 protected:
  MetricsTest() : FederationCalls(kHolder) {}

  void SetUp() override {
    federation_ = std::make_unique<TestFederation>(dir_.path());
    set_federation(federation_.get());
    federation_->set_extra_config(kMetricsOnAnyPort);
    std::string error;
    ASSERT_TRUE(
        federation_->Create({ExampleMember(kHolder, "VICTIM_SERVICES"),
                             ExampleMember(kLegalAid, "LEGAL_SERVICES")},
                            &error))
        << error;
    ASSERT_TRUE(federation_->Start(&error)) << error;
    for (const char* agency : {kHolder, kLegalAid}) Connect(agency);
  }

  void TearDown() override { Disconnect(); }

  // GET /metrics from `agency`'s node: the body, checked for status and
  // content type ("" with a test failure if the request fails).
  std::string Fetch(const std::string& agency) {
    const std::string& address = federation_->node(agency).metrics_address();
    EXPECT_THAT(address, StartsWith("127.0.0.1:"));
    httplib::Client client("http://" + address);
    client.set_connection_timeout(5);
    client.set_read_timeout(10);
    auto response = client.Get("/metrics");
    if (!response) {
      ADD_FAILURE() << "GET /metrics from " << agency << ": "
                    << httplib::to_string(response.error());
      return "";
    }
    EXPECT_EQ(response->status, 200);
    EXPECT_THAT(response->get_header_value("Content-Type"),
                StartsWith("text/plain; version=0.0.4"));
    return response->body;
  }

  // `text` parsed by the Python parser; a test failure if it rejects it.
  Scrape Parse(std::string text) {
    Scrape scrape;
    scrape.text = std::move(text);
    const std::string file =
        absl::StrCat(dir_.path(), "/scrape-", scrapes_++, ".txt");
    std::ofstream(file, std::ios::binary | std::ios::trunc) << scrape.text;
    std::string output;
    const int code =
        RunCommand({HAVEN_SYSTEM_PYTHON, HAVEN_METRICS_PARSER, file}, &output,
                   std::chrono::seconds(60));
    EXPECT_EQ(code, 0) << "the Prometheus parser rejected a scrape: " << output;
    for (absl::string_view line :
         absl::StrSplit(output, '\n', absl::SkipEmpty())) {
      const size_t tab = line.rfind('\t');
      if (tab == absl::string_view::npos) continue;
      double value = 0;
      if (!absl::SimpleAtod(line.substr(tab + 1), &value)) continue;
      scrape.samples[std::string(line.substr(0, tab))] = value;
    }
    EXPECT_FALSE(scrape.samples.empty()) << output;
    return scrape;
  }

  Scrape ScrapeOf(const std::string& agency) { return Parse(Fetch(agency)); }

  // Secrets and identifiers the exposition must never hold.
  std::vector<std::string> Forbidden() const {
    std::vector<std::string> forbidden = identifiers_;
    for (const char* agency : {kHolder, kLegalAid}) {
      const TestNode& node = federation_->node(agency);
      for (const char* role : TestNode::kRoles) {
        forbidden.push_back(node.token(role));
      }
      forbidden.push_back(node.master_key_hex());
    }
    return forbidden;
  }

  void ExpectNothingForbidden(const Scrape& scrape) {
    for (const std::string& secret : Forbidden()) {
      if (secret.empty()) continue;
      EXPECT_THAT(scrape.text, Not(HasSubstr(secret)));
    }
  }

  TempDir dir_;
  std::unique_ptr<TestFederation> federation_;
  // Subject ids, handles, consent ids and field values the test used.
  std::vector<std::string> identifiers_;
  int scrapes_ = 0;
};

TEST_F(MetricsTest, CountersRiseUnderDisclosureLoadAndHoldNoIdentifiers) {
  const Scrape holder_before = ScrapeOf(kHolder);
  const Scrape requester_before = ScrapeOf(kLegalAid);
  ExpectNothingForbidden(holder_before);

  const std::string subject =
      CreateSubject({NewField("phone", haven::v1::CONTACT, "555-0100 ext 9"),
                     NewField("clinic_visit", haven::v1::MEDICAL,
                              "seen 2026-10-02 by dr-unique-name")});
  std::string consent_id;
  const std::string handle = ConsentAndWaitForHandle(
      subject, kLegalAid, haven::v1::LEGAL_REPRESENTATION, {haven::v1::CONTACT},
      &consent_id);
  ASSERT_FALSE(handle.empty());
  const std::string unknown_handle =
      RandomHex(handle.size() / 2 + 1).substr(0, handle.size());
  identifiers_ = {subject,    handle,           unknown_handle,
                  consent_id, "555-0100 ext 9", "dr-unique-name"};

  // The load: disclosures, requests for a handle the holder never issued,
  // and requests for a category no consent covers.
  constexpr int kDisclosed = 6;
  constexpr int kUnknownHandle = 3;
  constexpr int kNotPermitted = 2;
  constexpr int kRequests = kDisclosed + kUnknownHandle + kNotPermitted;
  std::atomic<bool> load_done{false};
  std::atomic<int> disclosed_ok{0};
  absl::Notification scraped_during_load;
  std::thread load([&] {
    for (int i = 0; i < kRequests; ++i) {
      // Half way, the load waits (bounded) for a scrape to finish, so that
      // scrapes overlap it however fast the nodes answer.
      if (i == kRequests / 2) {
        scraped_during_load.WaitForNotificationWithTimeout(absl::Seconds(30));
      }
      haven::v1::RequestDisclosureResponse response;
      if (i % 4 == 1 && i / 4 < kUnknownHandle) {
        Request(kLegalAid, unknown_handle, haven::v1::LEGAL_REPRESENTATION,
                {haven::v1::CONTACT}, &response);
      } else if (i % 4 == 3 && i / 4 < kNotPermitted) {
        Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                {haven::v1::MEDICAL}, &response);
      } else if (Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                         {haven::v1::CONTACT}, &response)
                     .ok() &&
                 response.fields_size() == 1) {
        ++disclosed_ok;
      }
    }
    load_done = true;
  });

  // Scrapes while the load runs (bounded), kept to be parsed once it is
  // done: each parses, holds nothing forbidden, and the counters never go
  // down.
  std::vector<std::string> during;
  for (int i = 0; i < 500 && !load_done; ++i) {
    during.push_back(Fetch(kHolder));
    if (!scraped_during_load.HasBeenNotified()) scraped_during_load.Notify();
  }
  if (!scraped_during_load.HasBeenNotified()) scraped_during_load.Notify();
  load.join();
  EXPECT_GE(during.size(), 1u);
  EXPECT_EQ(disclosed_ok, kDisclosed);

  const std::map<std::string, std::string> kDisclosedLabels = {
      {"peer", kLegalAid}, {"outcome", "disclosed"}, {"reason", "permitted"}};
  double last_disclosed =
      holder_before.Get("haven_holder_decisions_total", kDisclosedLabels);
  // Every scrape is searched; at most 20, spread evenly, are parsed (each
  // parse is a Python process).
  const size_t parse_every = during.size() / 20 + 1;
  for (size_t i = 0; i < during.size(); ++i) {
    for (const std::string& secret : Forbidden()) {
      if (!secret.empty()) {
        EXPECT_THAT(during[i], Not(HasSubstr(secret)));
      }
    }
    if (i % parse_every != 0 && i + 1 != during.size()) continue;
    const Scrape scrape = Parse(during[i]);
    const double now =
        scrape.Get("haven_holder_decisions_total", kDisclosedLabels);
    EXPECT_GE(now, last_disclosed);
    last_disclosed = now;
  }
  RecordProperty("scrapes_during_load", static_cast<int>(during.size()));

  const Scrape holder = ScrapeOf(kHolder);
  const Scrape requester = ScrapeOf(kLegalAid);
  ExpectNothingForbidden(holder);
  ExpectNothingForbidden(requester);

  // Decisions at the holder, by outcome and fixed reason.
  EXPECT_EQ(
      holder.Get("haven_holder_decisions_total", kDisclosedLabels) -
          holder_before.Get("haven_holder_decisions_total", kDisclosedLabels),
      kDisclosed);
  EXPECT_EQ(holder.Get("haven_holder_decisions_total",
                       {{"peer", kLegalAid},
                        {"outcome", "refused"},
                        {"reason", "unknown_handle"}}),
            kUnknownHandle);
  EXPECT_EQ(
      holder.Get("haven_holder_decisions_total", {{"peer", kLegalAid},
                                                  {"outcome", "refused"},
                                                  {"reason", "not_permitted"}}),
      kNotPermitted);

  // Per-RPC latency: the requester's local RequestDisclosure calls, and the
  // holder's peer Disclose calls.
  const std::map<std::string, std::string> request_ok = {
      {"api", "local"},
      {"service", "haven.v1.ExchangeService"},
      {"method", "RequestDisclosure"},
      {"code", "OK"}};
  EXPECT_GE(
      requester.Get("haven_rpc_duration_seconds_count", request_ok) -
          requester_before.Get("haven_rpc_duration_seconds_count", request_ok),
      kDisclosed);
  const std::map<std::string, std::string> disclose_ok = {
      {"api", "peer"},
      {"service", "haven.v1.PeerService"},
      {"method", "Disclose"},
      {"code", "OK"}};
  EXPECT_GE(
      holder.Get("haven_rpc_duration_seconds_count", disclose_ok) -
          holder_before.Get("haven_rpc_duration_seconds_count", disclose_ok),
      kDisclosed);
  EXPECT_EQ(holder.Get("haven_rpc_duration_seconds_bucket",
                       {{"api", "peer"},
                        {"service", "haven.v1.PeerService"},
                        {"method", "Disclose"},
                        {"code", "OK"},
                        {"le", "+Inf"}}),
            holder.Get("haven_rpc_duration_seconds_count", disclose_ok));

  // The audit log grew, in group commits that were timed.
  EXPECT_GT(holder.Get("haven_audit_tree_size"),
            holder_before.Get("haven_audit_tree_size"));
  EXPECT_GE(holder.Get("haven_audit_entries_appended_total") -
                holder_before.Get("haven_audit_entries_appended_total"),
            kDisclosed + kUnknownHandle + kNotPermitted);
  EXPECT_GT(holder.Get("haven_audit_commit_entries_count"),
            holder_before.Get("haven_audit_commit_entries_count"));
  EXPECT_GT(holder.Get("haven_audit_commit_write_seconds_count"),
            holder_before.Get("haven_audit_commit_write_seconds_count"));

  // Consents by status, and the outbox backlog per peer.
  EXPECT_EQ(holder.Get("haven_consents", {{"status", "active"}}), 1);
  EXPECT_EQ(holder.Get("haven_consents", {{"status", "revoked"}}), 0);
  EXPECT_TRUE(
      holder.Has("haven_peer_outbox_pending_messages", {{"peer", kLegalAid}}))
      << holder.text;
}

TEST_F(MetricsTest, WitnessRoundsAreCountedPerPeer) {
  // The first witness round runs about 2 s after start; poll (bounded,
  // 20 s) until the holder has verified legal-aid's checkpoint.
  const std::string verified =
      absl::StrCat("haven_witness_rounds_total{peer=\"", kLegalAid,
                   "\",result=\"verified\"}");
  std::string text;
  for (int i = 0; i < 200; ++i) {
    text = Fetch(kHolder);
    if (absl::StrContains(text, verified)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const Scrape scrape = Parse(text);
  EXPECT_GE(scrape.Get("haven_witness_rounds_total",
                       {{"peer", kLegalAid}, {"result", "verified"}}),
            1)
      << text;
  EXPECT_EQ(scrape.Get("haven_witness_rounds_total",
                       {{"peer", kLegalAid}, {"result", "failed"}}),
            0);
}

TEST_F(MetricsTest, EndpointAnswersOnlyGetMetrics) {
  const std::string& address = federation_->node(kHolder).metrics_address();
  ASSERT_THAT(address, StartsWith("127.0.0.1:"));
  httplib::Client client("http://" + address);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  auto root = client.Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 404);
  auto post =
      client.Post("/metrics", "x=1", "application/x-www-form-urlencoded");
  ASSERT_TRUE(post);
  EXPECT_NE(post->status, 200);
}

TEST(MetricsConfigTest, NodeRefusesMetricsOffLoopback) {
  TempDir dir;
  std::string error;
  ASSERT_TRUE(MakeCertificates(dir.Join("pki"), {"safe-harbor"}, &error))
      << error;
  TestNode::Options options;
  options.root_dir = dir.path();
  options.pki_dir = dir.Join("pki");
  options.peer_api = false;
  options.extra_config = "metrics_listen_address: \"0.0.0.0:0\"\n";
  TestNode node(options);
  EXPECT_FALSE(node.Start(&error));
  EXPECT_THAT(error, HasSubstr("metrics_listen_address"));
  EXPECT_THAT(error, HasSubstr("only a loopback address is accepted"));
}

}  // namespace
}  // namespace haven::testing

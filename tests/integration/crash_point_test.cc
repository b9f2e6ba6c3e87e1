// Crash points: a scripted case (a survivor's record, consent, disclosures,
// an amendment, the use limit, revocation, refusal, erasure) against
// safe-harbor's node, which runs in this process on a FaultInjectingStorage,
// with legal-aid's node as a real havend process asking. The scenario runs
// once without faults to count its writes; then, for every one of those
// writes, once with the process dying there (what was not synced is lost)
// and once with the sync failing there (the bytes reach the disk anyway,
// the worst case of a failed fsync). Each time the node is restarted on
// what the storage kept, and:
//   - every call that returned OK is fully there;
//   - every call that failed left nothing usable (no consent, no counted
//     use, no revocation that was reported failed);
//   - the audit log verifies and extends the last checkpoint the test saw;
//   - no disclosure is possible under a consent the log shows revoked or
//     never recorded.
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/verify/log_replay.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "haven/v1/audit.grpc.pb.h"
#include "haven/v1/consent.grpc.pb.h"
#include "haven/v1/exchange.grpc.pb.h"
#include "haven/v1/records.grpc.pb.h"
#include "server/node/config.h"
#include "server/node/node.h"
#include "tests/testing/fault_injecting_storage.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_federation.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

using ::testing::IsEmpty;

constexpr char kHolder[] = "safe-harbor";
constexpr char kLegalAid[] = "legal-aid";
constexpr char kPhone[] = "555-0142 (after 6pm)";
constexpr int kUseLimit = 3;

// The federation, shared by every run: certificates, the manifest, and
// legal-aid's node running as a process. Safe-harbor's node is started in
// process by each run.
class Federation {
 public:
  // Destroyed at exit, which stops legal-aid's process.
  static Federation& Get() {
    static Federation federation;
    return federation;
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  TestFederation& members() { return *federation_; }
  TestNode& legal_aid() { return federation_->node(kLegalAid); }
  const TestNode& holder_files() { return federation_->node(kHolder); }

 private:
  Federation() : federation_(std::make_unique<TestFederation>(dir_.path())) {
    std::string error;
    if (!federation_->Create(
            {{kHolder, "VICTIM_SERVICES",
              SourceDir() + "/policy/examples/safe-harbor.textproto"},
             {kLegalAid, "LEGAL_SERVICES",
              SourceDir() + "/policy/examples/legal-aid.textproto"}},
            &error)) {
      error_ = error;
      return;
    }
    // No background witness rounds: the writes of a run are the
    // scenario's own, in the same order every time.
    for (const char* agency : {kHolder, kLegalAid}) {
      std::ofstream(federation_->node(agency).config_path(), std::ios::app)
          << "witness_interval_seconds: 3600\n";
    }
    if (!legal_aid().Start(&error)) error_ = error;
  }

  TempDir dir_;
  std::unique_ptr<TestFederation> federation_;
  std::string error_;
};

// Safe-harbor's node, in process, on `storage`.
class Holder {
 public:
  static absl::StatusOr<std::unique_ptr<Holder>> Start(
      std::unique_ptr<server::storage::Storage> storage) {
    auto config = server::node::LoadConfig(
        Federation::Get().holder_files().config_path());
    if (!config.ok()) return config.status();
    auto node =
        server::node::Node::Create(*std::move(config), std::move(storage));
    if (!node.ok()) return node.status();
    std::unique_ptr<Holder> holder(new Holder(*std::move(node)));
    if (absl::Status started = holder->node_->Start(); !started.ok()) {
      return started;
    }
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs =
        ReadFileOrEmpty(Federation::Get().holder_files().ca_file());
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride(kHolder);
    holder->channel_ = grpc::CreateCustomChannel(
        holder->node_->local_address(), grpc::SslCredentials(tls), args);
    return holder;
  }

  std::unique_ptr<grpc::ClientContext> Call(const std::string& role) const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata(
        "authorization",
        "Bearer " + Federation::Get().holder_files().token(role));
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(20));
    return context;
  }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  server::node::Node& node() { return *node_; }

 private:
  explicit Holder(std::unique_ptr<server::node::Node> node)
      : node_(std::move(node)) {}
  std::unique_ptr<server::node::Node> node_;
  std::shared_ptr<grpc::Channel> channel_;
};

std::unique_ptr<grpc::ClientContext> LegalAidCall() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata(
      "authorization",
      "Bearer " + Federation::Get().legal_aid().token("caseworker"));
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(20));
  return context;
}

std::set<std::string> LegalAidHandles() {
  auto stub = haven::v1::ExchangeService::NewStub(
      Federation::Get().legal_aid().LocalChannel());
  haven::v1::ListHandlesResponse listed;
  std::set<std::string> handles;
  if (stub->ListHandles(LegalAidCall().get(), {}, &listed).ok()) {
    for (const auto& h : listed.handles()) {
      if (h.holder_agency_id() == kHolder) handles.insert(h.handle());
    }
  }
  return handles;
}

// What one run did and what each call answered.
struct Run {
  std::string subject;
  std::string record_id;
  std::string consent_id;
  std::string handle;
  // Per step: OK or not.
  std::map<std::string, bool> ok;
  // Disclosures that returned fields, by their holder audit index.
  std::vector<uint64_t> disclosed_at;
  // The last checkpoint note the test saw from the holder.
  std::string last_checkpoint;
  uint64_t writes = 0;
};

class Scenario {
 public:
  Scenario(Holder* holder, testing::FaultInjectingStorage* storage, Run* run)
      : holder_(holder), storage_(storage), run_(run) {}

  void Play() {
    Step("create-subject", [&] {
      auto stub = haven::v1::RecordService::NewStub(holder_->channel());
      haven::v1::CreateSubjectResponse created;
      grpc::Status s =
          stub->CreateSubject(holder_->Call("caseworker").get(), {}, &created);
      run_->subject = created.subject_id();
      return s.ok();
    });
    Step("put-record", [&] {
      auto stub = haven::v1::RecordService::NewStub(holder_->channel());
      haven::v1::PutRecordRequest put;
      put.set_subject_id(run_->subject);
      auto* phone = put.add_fields();
      phone->set_name("phone");
      phone->set_category(haven::v1::CONTACT);
      phone->set_value(kPhone);
      auto* visa = put.add_fields();
      visa->set_name("visa_status");
      visa->set_category(haven::v1::IMMIGRATION);
      visa->set_value("T-visa pending");
      haven::v1::PutRecordResponse stored;
      grpc::Status s =
          stub->PutRecord(holder_->Call("caseworker").get(), put, &stored);
      run_->record_id = stored.record_id();
      return s.ok();
    });
    Step("record-consent", [&] {
      const std::set<std::string> before = LegalAidHandles();
      auto stub = haven::v1::ConsentService::NewStub(holder_->channel());
      haven::v1::RecordConsentRequest request;
      haven::v1::Consent* c = request.mutable_consent();
      c->set_subject_id(run_->subject);
      c->mutable_grantee()->set_agency_id(kLegalAid);
      c->add_purposes(haven::v1::LEGAL_REPRESENTATION);
      c->add_categories(haven::v1::CONTACT);
      c->mutable_valid()->set_from_unix(NowUnix() - 60);
      c->mutable_valid()->set_until_unix(NowUnix() + 86400);
      c->mutable_use_limit()->set_max_uses(kUseLimit);
      haven::v1::RecordConsentResponse response;
      grpc::Status s = stub->RecordConsent(holder_->Call("advocate").get(),
                                           request, &response);
      run_->consent_id = response.receipt().consent().consent_id();
      if (s.ok()) {
        // Deterministic writes: wait until legal-aid has the handle and
        // the holder has dropped its copy of the offer.
        for (int i = 0; i < 200; ++i) {
          for (const std::string& h : LegalAidHandles()) {
            if (!before.contains(h)) run_->handle = h;
          }
          if (!run_->handle.empty() && OutboxEmpty()) break;
          if (storage_->stopped()) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
      return s.ok();
    });
    Step("disclose-1", [&] { return Disclose({haven::v1::CONTACT}); });
    Step("amend", [&] {
      auto stub = haven::v1::ConsentService::NewStub(holder_->channel());
      haven::v1::AmendConsentRequest request;
      request.set_consent_id(run_->consent_id);
      haven::v1::Consent* c = request.mutable_consent();
      c->mutable_grantee()->set_agency_id(kLegalAid);
      c->add_purposes(haven::v1::LEGAL_REPRESENTATION);
      c->add_categories(haven::v1::CONTACT);
      c->add_categories(haven::v1::IMMIGRATION);
      c->mutable_valid()->set_from_unix(NowUnix() - 60);
      c->mutable_valid()->set_until_unix(NowUnix() + 86400);
      c->mutable_use_limit()->set_max_uses(kUseLimit);
      haven::v1::AmendConsentResponse response;
      return stub
          ->AmendConsent(holder_->Call("advocate").get(), request, &response)
          .ok();
    });
    Step("disclose-2", [&] {
      return Disclose({haven::v1::CONTACT, haven::v1::IMMIGRATION});
    });
    Step("disclose-3", [&] { return Disclose({haven::v1::CONTACT}); });
    // The use limit is reached: this one is refused (and on record).
    Step("disclose-over-limit", [&] { return Disclose({haven::v1::CONTACT}); });
    Step("revoke", [&] {
      auto stub = haven::v1::ConsentService::NewStub(holder_->channel());
      haven::v1::ChangeConsentStatusRequest request;
      request.set_consent_id(run_->consent_id);
      request.set_reason("survivor withdrew consent");
      haven::v1::ChangeConsentStatusResponse response;
      grpc::Status s = stub->RevokeConsent(holder_->Call("advocate").get(),
                                           request, &response);
      if (s.ok()) {
        for (int i = 0; i < 200; ++i) {
          if (!LegalAidHandles().contains(run_->handle) && OutboxEmpty()) {
            break;
          }
          if (storage_->stopped()) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
      return s.ok();
    });
    Step("disclose-after-revoke",
         [&] { return Disclose({haven::v1::CONTACT}); });
    Step("record-refusal", [&] {
      auto stub = haven::v1::ConsentService::NewStub(holder_->channel());
      haven::v1::RecordRefusalRequest request;
      request.set_subject_id(run_->subject);
      haven::v1::RecordRefusalResponse response;
      return stub
          ->RecordRefusal(holder_->Call("advocate").get(), request, &response)
          .ok();
    });
    Step("erase", [&] {
      auto stub = haven::v1::RecordService::NewStub(holder_->channel());
      haven::v1::EraseSubjectRequest request;
      request.set_subject_id(run_->subject);
      request.set_reason("survivor asked for erasure");
      haven::v1::EraseSubjectResponse response;
      return stub
          ->EraseSubject(holder_->Call("caseworker").get(), request, &response)
          .ok();
    });
    run_->writes = storage_->writes();
  }

 private:
  template <typename Fn>
  void Step(const std::string& name, Fn fn) {
    const bool ok = fn();
    run_->ok[name] = ok;
    if (ok) {
      auto stub = haven::v1::AuditService::NewStub(holder_->channel());
      haven::v1::GetCheckpointResponse checkpoint;
      if (stub->GetCheckpoint(holder_->Call("auditor").get(), {}, &checkpoint)
              .ok()) {
        run_->last_checkpoint = checkpoint.checkpoint().note();
      }
    }
  }

  bool OutboxEmpty() {
    for (const std::string& key :
         storage_->Keys(server::storage::Family::kExchange)) {
      if (key.rfind("o/", 0) == 0) return false;
    }
    return true;
  }

  // Legal-aid asks; true only if fields came back.
  bool Disclose(std::vector<haven::v1::Category> categories) {
    if (run_->handle.empty()) return false;
    auto stub = haven::v1::ExchangeService::NewStub(
        Federation::Get().legal_aid().LocalChannel());
    haven::v1::RequestDisclosureRequest request;
    request.set_holder_agency_id(kHolder);
    request.set_handle(run_->handle);
    request.set_purpose(haven::v1::LEGAL_REPRESENTATION);
    for (auto c : categories) request.add_categories(c);
    haven::v1::RequestDisclosureResponse response;
    grpc::Status s =
        stub->RequestDisclosure(LegalAidCall().get(), request, &response);
    if (!s.ok() || response.fields_size() == 0) return false;
    run_->disclosed_at.push_back(response.holder_audit_index());
    return true;
  }

  Holder* holder_;
  testing::FaultInjectingStorage* storage_;
  Run* run_;
};

enum class Fault { kNone, kCrash, kFailedSync };

// Runs the scenario with `fault` at write `at`; returns what the run did
// and the storage a restart finds.
std::pair<Run, std::unique_ptr<testing::FaultInjectingStorage>> PlayWith(
    Fault fault, int64_t at) {
  auto storage = std::make_unique<testing::FaultInjectingStorage>();
  testing::FaultInjectingStorage* raw = storage.get();
  if (fault == Fault::kCrash) raw->CrashAt(at);
  if (fault == Fault::kFailedSync) raw->FailSyncAt(at);
  Run run;
  auto holder = Holder::Start(std::make_unique<testing::StorageRef>(raw));
  if (holder.ok()) {
    Scenario(holder->get(), raw, &run).Play();
  } else {
    run.writes = raw->writes();
  }
  // The process stops here: a crash keeps only what was synced; a failed
  // sync's bytes are (worst case) on disk.
  auto restarted =
      storage->Restart(fault == Fault::kFailedSync
                           ? testing::FaultInjectingStorage::Unsynced::kKeep
                           : testing::FaultInjectingStorage::Unsynced::kDrop);
  if (holder.ok()) holder->reset();  // the node goes away
  return {std::move(run), std::move(restarted)};
}

int64_t CleanRunWrites() {
  static int64_t writes = [] {
    auto [run, storage] = PlayWith(Fault::kNone, 0);
    for (const auto& [step, ok] : run.ok) {
      EXPECT_TRUE(ok || step == "disclose-over-limit" ||
                  step == "disclose-after-revoke")
          << step;
    }
    EXPECT_FALSE(run.ok.at("disclose-over-limit"));
    EXPECT_FALSE(run.ok.at("disclose-after-revoke"));
    return static_cast<int64_t>(run.writes);
  }();
  return writes;
}

// Every audit entry of the holder, oldest first.
std::vector<haven::v1::IndexedEntry> AllEntries(Holder& holder,
                                                std::string* note,
                                                std::string* verifier_key) {
  auto stub = haven::v1::AuditService::NewStub(holder.channel());
  haven::v1::GetCheckpointResponse checkpoint;
  EXPECT_TRUE(
      stub->GetCheckpoint(holder.Call("auditor").get(), {}, &checkpoint).ok());
  *note = checkpoint.checkpoint().note();
  *verifier_key = checkpoint.verifier_key();
  std::vector<haven::v1::IndexedEntry> entries;
  while (entries.size() < checkpoint.checkpoint().tree_size()) {
    haven::v1::GetEntriesRequest request;
    request.set_start(entries.size());
    request.set_count(1000);
    haven::v1::GetEntriesResponse response;
    if (!stub->GetEntries(holder.Call("auditor").get(), request, &response)
             .ok() ||
        response.entries().empty()) {
      ADD_FAILURE() << "cannot read the holder's log";
      break;
    }
    for (auto& e : *response.mutable_entries()) entries.push_back(e);
  }
  return entries;
}

// One crash point: the scenario with `fault` at write `at`, a restart, and
// the checks of the file comment.
void CheckCrashPoint(Fault fault, int64_t at, int64_t total) {
  SCOPED_TRACE(absl::StrCat(fault == Fault::kCrash ? "crash" : "failed sync",
                            " at write ", at, " of ", total));
  auto [run, storage] = PlayWith(fault, at);
  auto restarted = Holder::Start(std::move(storage));
  ASSERT_THAT(restarted, IsOk()) << "the node must come back";
  Holder& holder = **restarted;

  // The log verifies and extends what the test last saw.
  std::string note, verifier_key;
  const auto entries = AllEntries(holder, &note, &verifier_key);
  client::ReplayInput replay;
  for (const auto& e : entries) replay.leaves.push_back(e.leaf());
  replay.checkpoint_note = note;
  replay.verifier_key = verifier_key;
  if (!run.last_checkpoint.empty()) {
    replay.trusted_checkpoint_note = run.last_checkpoint;
  }
  EXPECT_THAT(client::VerifyLogReplay(replay), IsOk());

  // What the log says happened (voided entries do not count).
  std::set<uint64_t> voided;
  for (const auto& e : entries) {
    if (e.entry().kind() != haven::v1::WRITES_VOIDED) continue;
    std::set<uint64_t> kept(e.entry().voided().kept().begin(),
                            e.entry().voided().kept().end());
    for (uint64_t i = e.entry().voided().first(); i < e.entry().voided().end();
         ++i) {
      if (!kept.contains(i)) voided.insert(i);
    }
  }
  bool logged_recorded = false, logged_revoked = false, logged_refusal = false,
       logged_erased = false;
  int logged_disclosures = 0;
  for (const auto& e : entries) {
    if (voided.contains(e.index())) continue;
    // The scenario has one survivor and one consent.
    const auto& entry = e.entry();
    logged_recorded |= entry.kind() == haven::v1::CONSENT_RECORDED;
    logged_revoked |= entry.kind() == haven::v1::CONSENT_REVOKED;
    logged_disclosures += entry.kind() == haven::v1::DISCLOSURE;
    logged_refusal |= entry.kind() == haven::v1::REFUSAL_RECORDED;
    logged_erased |= entry.kind() == haven::v1::SUBJECT_ERASED;
  }

  auto records = haven::v1::RecordService::NewStub(holder.channel());
  auto consents = haven::v1::ConsentService::NewStub(holder.channel());
  const bool erased = run.ok["erase"] || logged_erased;

  // Every call that returned OK is fully there.
  if (run.ok["put-record"] && !erased) {
    haven::v1::GetRecordRequest get;
    get.set_subject_id(run.subject);
    get.set_record_id(run.record_id);
    haven::v1::GetRecordResponse got;
    ASSERT_TRUE(
        records->GetRecord(holder.Call("caseworker").get(), get, &got).ok());
    EXPECT_EQ(got.record().fields(0).value(), kPhone);
  }
  if (run.ok["erase"]) {
    haven::v1::ListRecordsRequest list;
    list.set_subject_id(run.subject);
    haven::v1::ListRecordsResponse listed;
    EXPECT_EQ(
        records->ListRecords(holder.Call("caseworker").get(), list, &listed)
            .error_code(),
        grpc::StatusCode::NOT_FOUND);
  }
  // The survivor's consents as the node now holds them.
  haven::v1::GetConsentResponse consent;
  bool consent_present = false;
  if (!run.subject.empty()) {
    haven::v1::ListConsentsRequest list;
    list.set_subject_id(run.subject);
    haven::v1::ListConsentsResponse listed;
    ASSERT_TRUE(
        consents->ListConsents(holder.Call("advocate").get(), list, &listed)
            .ok());
    ASSERT_LE(listed.consents_size(), 1);
    if (listed.consents_size() == 1) {
      haven::v1::GetConsentRequest get;
      get.set_consent_id(listed.consents(0).consent_id());
      consent_present =
          consents->GetConsent(holder.Call("advocate").get(), get, &consent)
              .ok();
      EXPECT_TRUE(consent_present);
    }
  }
  if (run.ok["record-consent"]) {
    ASSERT_TRUE(consent_present);
    EXPECT_TRUE(logged_recorded);
  } else {
    // A consent whose call failed is not there, logged or not.
    EXPECT_FALSE(consent_present);
    EXPECT_FALSE(logged_recorded);
  }
  if (consent_present) {
    const haven::v1::Consent& current = consent.history().rbegin()[0];
    if (run.ok["amend"]) {
      ASSERT_GE(consent.history_size(), 2);
      EXPECT_EQ(consent.history(1).categories_size(), 2);
    }
    EXPECT_EQ(current.status() == haven::v1::REVOKED, logged_revoked);
    if (run.ok["revoke"]) {
      EXPECT_EQ(current.status(), haven::v1::REVOKED);
    } else {
      EXPECT_NE(current.status(), haven::v1::REVOKED);
    }
    // Exactly the disclosures that returned fields were counted.
    EXPECT_EQ(current.use_count(), run.disclosed_at.size());
    EXPECT_EQ(logged_disclosures, static_cast<int>(run.disclosed_at.size()));
  }
  for (uint64_t index : run.disclosed_at) {
    ASSERT_LT(index, entries.size());
    EXPECT_EQ(entries[index].entry().kind(), haven::v1::DISCLOSURE);
    EXPECT_FALSE(voided.contains(index));
  }
  if (run.ok["record-refusal"]) {
    haven::v1::ListConsentsRequest list;
    list.set_subject_id(run.subject);
    haven::v1::ListConsentsResponse listed;
    ASSERT_TRUE(
        consents->ListConsents(holder.Call("advocate").get(), list, &listed)
            .ok());
    ASSERT_EQ(listed.refusals_size(), 1);
    EXPECT_TRUE(listed.refusals(0).active());
  }

  // No disclosure under a consent the log shows revoked or never recorded
  // (or spent, or overridden by a refusal, or of an erased subject).
  const bool usable_by_log = logged_recorded && !logged_revoked &&
                             !logged_refusal && !erased &&
                             logged_disclosures < kUseLimit;
  if (!usable_by_log && !run.handle.empty()) {
    auto stub = haven::v1::ExchangeService::NewStub(
        Federation::Get().legal_aid().LocalChannel());
    haven::v1::RequestDisclosureRequest request;
    request.set_holder_agency_id(kHolder);
    request.set_handle(run.handle);
    request.set_purpose(haven::v1::LEGAL_REPRESENTATION);
    request.add_categories(haven::v1::CONTACT);
    haven::v1::RequestDisclosureResponse response;
    (void)stub->RequestDisclosure(LegalAidCall().get(), request, &response);
    EXPECT_EQ(response.fields_size(), 0);
  }
  holder.node().Shutdown(absl::Seconds(1));
}

TEST(CrashPointTest, EveryWriteOfTheScenarioCrashedAndFailedToSync) {
  ASSERT_TRUE(Federation::Get().ok()) << Federation::Get().error();
  const int64_t total = CleanRunWrites();
  ASSERT_GT(total, 10);
  for (Fault fault : {Fault::kCrash, Fault::kFailedSync}) {
    for (int64_t at = 0; at < total; ++at) {
      CheckCrashPoint(fault, at, total);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace haven::testing

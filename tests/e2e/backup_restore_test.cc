// Backup and restore against real havend processes on 127.0.0.1:
// safe-harbor (victim services) holds survivors' records and is backed up
// while 16 clients write records and ask for disclosures; legal-aid (legal
// services) asks for them and witnesses safe-harbor's log. The holder's
// disk then "dies": it is restored from the backup, which is older than
// what legal-aid witnessed.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "haven/v1/admin.grpc.pb.h"
#include "haven/v1/audit.grpc.pb.h"
#include "haven/v1/records.grpc.pb.h"
#include "tests/testing/federation_calls.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_federation.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

namespace fs = std::filesystem;

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kHolder[] = "safe-harbor";
constexpr char kLegalAid[] = "legal-aid";
constexpr int kWriters = 12;
constexpr int kRequesters = 4;  // 16 clients in all

struct Written {
  std::string subject_id;
  std::string record_id;
  std::string value;
};

class BackupRestoreTest : public ::testing::Test, public FederationCalls {
 protected:
  BackupRestoreTest() : FederationCalls(kHolder) {}

  void SetUp() override {
    federation_ = std::make_unique<TestFederation>(dir_.path());
    set_federation(federation_.get());
    std::string error;
    ASSERT_TRUE(
        federation_->Create({ExampleMember(kHolder, "VICTIM_SERVICES"),
                             ExampleMember(kLegalAid, "LEGAL_SERVICES")},
                            &error))
        << error;
    for (const char* agency : {kHolder, kLegalAid}) {
      // Each node witnesses the other every second.
      std::ofstream(node(agency).config_path(), std::ios::app)
          << "witness_interval_seconds: 1\n";
    }
    ASSERT_TRUE(federation_->Start(&error)) << error;
    Connect(kHolder);
    Connect(kLegalAid);
  }

  TestNode& node(const std::string& agency) {
    return federation_->node(agency);
  }

  haven::v1::GetStatusResponse Status() {
    auto admin = haven::v1::AdminService::NewStub(channel(kHolder));
    haven::v1::GetStatusResponse status;
    grpc::Status called = admin->GetStatus(
        Call(kHolder, "admin").get(), haven::v1::GetStatusRequest(), &status);
    EXPECT_TRUE(called.ok()) << called.error_message();
    return status;
  }

  // How far legal-aid has witnessed the holder's log (0 if not yet).
  uint64_t WitnessedByLegalAid() {
    auto audit = haven::v1::AuditService::NewStub(channel(kLegalAid));
    haven::v1::GetWitnessedRequest request;
    request.set_agency_id(kHolder);
    haven::v1::GetWitnessedResponse response;
    grpc::Status called = audit->GetWitnessed(Call(kLegalAid, "auditor").get(),
                                              request, &response);
    EXPECT_TRUE(called.ok()) << called.error_message();
    return response.witnessed_size() > 0
               ? response.witnessed(0).checkpoint().tree_size()
               : 0;
  }

  // Polls (bounded, 20 s) until `done` holds.
  template <typename Done>
  bool WaitUntil(Done done) {
    const auto give_up = In(std::chrono::seconds(20));
    while (!done()) {
      if (std::chrono::system_clock::now() > give_up) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return true;
  }

  int CountEntries(haven::v1::EntryKind kind) {
    int count = 0;
    for (const auto& e : Entries(kHolder)) count += e.entry().kind() == kind;
    return count;
  }

  TempDir dir_;
  std::unique_ptr<TestFederation> federation_;
};

// What an agency's IT would notice: a backup taken while the node is busy
// brings back every record acknowledged before it, and a log that verifies;
// and a node put back behind what its peers saw serves them nothing (its
// revived consents included) until an admin says it may, on the record.
TEST_F(BackupRestoreTest,
       BackupUnderLoadRestoresEveryAcknowledgedRecordAndPeersWaitForTheAdmin) {
  // A survivor whose phone number legal-aid may ask for.
  const std::string survivor =
      CreateSubject({NewField("phone", haven::v1::CONTACT, "555-0100")});
  const std::string handle = ConsentAndWaitForHandle(
      survivor, kLegalAid, haven::v1::LEGAL_REPRESENTATION,
      {haven::v1::CONTACT});
  ASSERT_FALSE(handle.empty());
  grpc::Status status;

  // 16 clients: 12 write records, 4 ask for disclosures.
  std::atomic<bool> stop{false};
  absl::Mutex mu;
  std::vector<Written> acknowledged;  // guarded by mu
  std::atomic<int> disclosures{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int w = 0; w < kWriters; ++w) {
    clients.emplace_back([&, w] {
      auto records = haven::v1::RecordService::NewStub(channel(kHolder));
      const std::string subject =
          CreateSubject({NewField("name", haven::v1::IDENTITY, "writer")});
      for (int i = 0; !stop.load() && i < 2000; ++i) {
        haven::v1::PutRecordRequest put;
        put.set_subject_id(subject);
        const std::string value = absl::StrCat("note ", w, "-", i);
        *put.add_fields() = NewField("note", haven::v1::CASE_STATUS, value);
        haven::v1::PutRecordResponse stored;
        if (!records->PutRecord(Call(kHolder, "caseworker").get(), put, &stored)
                 .ok()) {
          ++failures;
          continue;
        }
        absl::MutexLock lock(&mu);
        acknowledged.push_back({subject, stored.record_id(), value});
      }
    });
  }
  for (int r = 0; r < kRequesters; ++r) {
    clients.emplace_back([&] {
      for (int i = 0; !stop.load() && i < 2000; ++i) {
        haven::v1::RequestDisclosureResponse answer;
        if (Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                    {haven::v1::CONTACT}, &answer)
                .ok()) {
          ++disclosures;
        } else {
          ++failures;
        }
      }
    });
  }
  ASSERT_TRUE(WaitUntil([&] {
    absl::MutexLock lock(&mu);
    return acknowledged.size() >= 100 && disclosures.load() >= 5;
  }));

  // The backup, in the middle of the load.
  std::vector<Written> before_backup;
  {
    absl::MutexLock lock(&mu);
    before_backup = acknowledged;
  }
  const std::string backup_dir = dir_.Join("backup-1");
  std::string out;
  ASSERT_EQ(node(kHolder).Havenctl(
                "admin", {"admin", "backup", "--to", backup_dir}, &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("useless without the node's master key"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  for (auto& client : clients) client.join();
  EXPECT_EQ(failures.load(), 0);
  size_t written_after = 0;
  {
    absl::MutexLock lock(&mu);
    written_after = acknowledged.size() - before_backup.size();
  }
  EXPECT_GT(written_after, 0u) << "nothing was written during the backup";
  RecordProperty("records_before_backup",
                 static_cast<int>(before_backup.size()));
  RecordProperty("records_after_backup", static_cast<int>(written_after));
  RecordProperty("disclosures", disclosures.load());
  EXPECT_EQ(CountEntries(haven::v1::BACKUP_TAKEN), 1);
  // A backup never overwrites: the same directory again is refused.
  EXPECT_NE(node(kHolder).Havenctl(
                "admin", {"admin", "backup", "--to", backup_dir}, &out),
            0);
  EXPECT_THAT(out, HasSubstr("already exists"));
  // The backup holds no key: the master key's hex appears in no file.
  for (const auto& file : fs::directory_iterator(backup_dir)) {
    EXPECT_THAT(ReadFileOrEmpty(file.path().string()),
                Not(HasSubstr(node(kHolder).master_key_hex())))
        << file.path();
  }

  // legal-aid witnesses the holder's log past the backup.
  const uint64_t holder_size = Status().audit_tree_size();
  ASSERT_TRUE(WaitUntil([&] { return WitnessedByLegalAid() >= holder_size; }))
      << "legal-aid did not witness the holder's log of " << holder_size;

  // The holder's disk dies; its data dir is restored from the backup.
  Disconnect();
  ASSERT_EQ(node(kHolder).Stop(), 0);
  const std::string data_dir = node(kHolder).dir() + "/data";
  fs::rename(data_dir, data_dir + ".dead");
  ASSERT_EQ(RunCommand({HavendPath(), "--config", node(kHolder).config_path(),
                        "--restore-from", backup_dir},
                       &out),
            0)
      << out;
  std::string error;
  ASSERT_TRUE(node(kHolder).Start(&error)) << error;
  Connect(kHolder);
  Connect(kLegalAid);

  // Every record acknowledged before the backup reads back identical.
  auto records = haven::v1::RecordService::NewStub(channel(kHolder));
  for (const Written& w : before_backup) {
    haven::v1::GetRecordRequest get;
    get.set_subject_id(w.subject_id);
    get.set_record_id(w.record_id);
    haven::v1::GetRecordResponse got;
    status = records->GetRecord(Call(kHolder, "caseworker").get(), get, &got);
    ASSERT_TRUE(status.ok()) << w.record_id << ": " << status.error_message();
    ASSERT_EQ(got.record().fields_size(), 1);
    EXPECT_EQ(got.record().fields(0).value(), w.value);
  }
  // The restored log verifies end to end.
  EXPECT_EQ(
      node(kHolder).Havenctl(
          "auditor", {"audit", "verify", "--state", dir_.Join("auditor.state")},
          &out),
      0)
      << out;
  EXPECT_EQ(CountEntries(haven::v1::RESTORED_FROM_BACKUP), 1);

  // The first exchange with legal-aid shows the log went back: peers are
  // refused, and legal-aid's request gets nothing.
  ASSERT_TRUE(WaitUntil([&] {
    return Status().peer_serving().state() ==
           haven::v1::PeerServingState::ROLLED_BACK;
  })) << Status().peer_serving().detail();
  EXPECT_THAT(Status().peer_serving().detail(),
              HasSubstr("'legal-aid' witnessed it at"));
  EXPECT_EQ(CountEntries(haven::v1::ROLLBACK_DETECTED), 1);
  haven::v1::RequestDisclosureResponse refused;
  status = Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                   {haven::v1::CONTACT}, &refused);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(refused.fields_size(), 0);
  ASSERT_EQ(node(kHolder).Havenctl("admin", {"admin", "status"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("REFUSED (ROLLED_BACK)"));

  // The admin re-applies what was lost, then acknowledges, on the record.
  EXPECT_NE(
      node(kHolder).Havenctl(
          "admin", {"admin", "acknowledge-rollback", "--reason", "ok"}, &out),
      0);
  ASSERT_EQ(node(kHolder).Havenctl(
                "admin",
                {"admin", "acknowledge-rollback", "--reason",
                 "disk replaced; revocations since the backup re-entered"},
                &out),
            0)
      << out;
  EXPECT_EQ(Status().peer_serving().state(),
            haven::v1::PeerServingState::SERVING);
  bool logged = false;
  for (const auto& e : Entries(kHolder)) {
    if (e.entry().kind() == haven::v1::ROLLBACK_ACKNOWLEDGED) {
      logged = true;
      EXPECT_EQ(e.entry().principal(), absl::StrCat(kHolder, "-admin"));
      EXPECT_THAT(e.entry().detail(), HasSubstr("peer legal-aid witnessed"));
    }
  }
  EXPECT_TRUE(logged);
  haven::v1::RequestDisclosureResponse served;
  status = Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                   {haven::v1::CONTACT}, &served);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(served.fields_size(), 0);
  // Later rounds show legal-aid's old checkpoint again: it stays
  // acknowledged.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(Status().peer_serving().state(),
            haven::v1::PeerServingState::SERVING);
  EXPECT_EQ(CountEntries(haven::v1::ROLLBACK_DETECTED), 1);
}

}  // namespace
}  // namespace haven::testing

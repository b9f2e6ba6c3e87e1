// End-to-end tests of what survives a crash, a damaged write-ahead log and a
// failing disk, with real havend processes on 127.0.0.1: safe-harbor
// (victim services) holds a survivor's records and consents; legal-aid
// (legal services) and, where a second grantee is needed, metro-pd (law
// enforcement) ask for them. Each test damages the holder's data dir the way
// a crash, a bad disk or someone with file access would, restarts the holder
// and checks that a revoked or failed consent never comes back to life and
// that nothing leaves the node that should not.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "haven/v1/admin.grpc.pb.h"
#include "haven/v1/audit.grpc.pb.h"
#include "haven/v1/consent.grpc.pb.h"
#include "haven/v1/exchange.grpc.pb.h"
#include "haven/v1/records.grpc.pb.h"
#include "rocksdb/db.h"
#include "server/crypto/ed25519_signer.h"
#include "server/storage/database.h"
#include "tests/testing/federation_calls.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_federation.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

namespace fs = std::filesystem;

using ::haven::server::storage::Database;
using ::haven::server::storage::Family;
using ::haven::v1::Category;
using ::haven::v1::IndexedEntry;
using ::haven::v1::Purpose;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kHolder[] = "safe-harbor";
constexpr char kLegalAid[] = "legal-aid";
constexpr char kPolice[] = "metro-pd";
constexpr char kPhone[] = "555-0100 (after 6pm)";
constexpr char kRevokeReason[] =
    "survivor withdrew consent at the 2026-12 safety review";

bool HasPhone(
    const google::protobuf::RepeatedPtrField<haven::v1::Field>& fields) {
  for (const auto& field : fields) {
    if (field.name() == "phone" || field.value() == kPhone) return true;
  }
  return false;
}

// The newest RocksDB write-ahead log file (<number>.log) in `data_dir`, ""
// if there is none.
std::string NewestWal(const std::string& data_dir) {
  static const std::regex kWalName(R"(([0-9]+)\.log)");
  std::string newest;
  uint64_t newest_number = 0;
  for (const auto& file : fs::directory_iterator(data_dir)) {
    const std::string name = file.path().filename().string();
    std::smatch match;
    uint64_t number = 0;
    if (!std::regex_match(name, match, kWalName) ||
        !absl::SimpleAtoi(match[1].str(), &number)) {
      continue;
    }
    if (newest.empty() || number > newest_number) {
      newest = file.path().string();
      newest_number = number;
    }
  }
  return newest;
}

// The largest tree size among the checkpoints the node keeps beside its
// database: the file holds signed notes, NUL-padded into slots, and a
// note's second line is its tree size. 0 if there is none. (The node itself
// checks the signatures; the test only waits for the file to catch up.)
uint64_t CheckpointFileSize(const std::string& data_dir) {
  const std::string file = ReadFileOrEmpty(data_dir + "/haven-checkpoint");
  uint64_t largest = 0;
  size_t begin = 0;
  while (begin < file.size()) {
    size_t end = file.find('\0', begin);
    if (end == std::string::npos) end = file.size();
    const std::string note = file.substr(begin, end - begin);
    begin = end + 1;
    const size_t first = note.find('\n');
    if (first == std::string::npos) continue;
    const size_t second = note.find('\n', first + 1);
    if (second == std::string::npos) continue;
    uint64_t size = 0;
    if (absl::SimpleAtoi(note.substr(first + 1, second - first - 1), &size) &&
        size > largest) {
      largest = size;
    }
  }
  return largest;
}

// Flips one bit of the byte at `offset` of `path`.
void FlipBit(const std::string& path, uint64_t offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(file.is_open()) << path;
  file.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  ASSERT_TRUE(file.get(byte)) << path << " has no byte at " << offset;
  file.seekp(static_cast<std::streamoff>(offset));
  file.put(static_cast<char>(byte ^ 0x10));
  file.flush();
  ASSERT_TRUE(file.good()) << path;
}

// What one start of havend did.
struct StartOutcome {
  bool started = false;
  // havend's exit code when it did not start.
  std::optional<int> exit_code;
  // What this start (not the ones before) wrote to the node's log.
  std::string log;
};

StartOutcome TryStart(TestNode& node) {
  StartOutcome outcome;
  const size_t offset = node.Log().size();
  std::string error;
  outcome.started = node.Start(&error);
  if (!outcome.started) {
    outcome.exit_code = node.WaitForExit(std::chrono::seconds(10));
  }
  outcome.log = node.Log().substr(offset);
  return outcome;
}

class DurabilityTest : public ::testing::Test, public FederationCalls {
 protected:
  DurabilityTest() : FederationCalls(kHolder) {}

  // Creates and starts safe-harbor and legal-aid (and metro-pd if
  // `with_police`); the holder runs with `holder_env` added to its
  // environment.
  void StartFederation(bool with_police,
                       std::vector<std::string> holder_env = {}) {
    federation_ = std::make_unique<TestFederation>(dir_.path());
    set_federation(federation_.get());
    std::vector<TestFederation::Member> members = {
        ExampleMember(kHolder, "VICTIM_SERVICES"),
        ExampleMember(kLegalAid, "LEGAL_SERVICES")};
    if (with_police) {
      members.push_back(ExampleMember(kPolice, "LAW_ENFORCEMENT"));
    }
    std::string error;
    ASSERT_TRUE(federation_->Create(members, &error)) << error;
    for (const auto& member : members) {
      // No witness round during a test: its writes would land in the
      // holder's write-ahead log at moments the test does not choose.
      std::ofstream(federation_->node(member.agency_id).config_path(),
                    std::ios::app)
          << "witness_interval_seconds: 3600\n";
    }
    federation_->node(kHolder).set_env(std::move(holder_env));
    ASSERT_TRUE(federation_->Start(&error)) << error;
    for (const auto& member : members) Connect(member.agency_id);
  }

  TestNode& node(const std::string& agency) {
    return federation_->node(agency);
  }
  std::string DataDir(const std::string& agency) {
    return node(agency).dir() + "/data";
  }

  struct Survivor {
    std::string subject_id;
    std::string record_id;
  };

  // A survivor at the holder with one record: a name and a phone number.
  Survivor CreateSurvivor() {
    Survivor survivor;
    survivor.subject_id = CreateSubject(
        {NewField("full_name", haven::v1::IDENTITY, "A. Survivor"),
         NewField("phone", haven::v1::CONTACT, kPhone)},
        &survivor.record_id);
    return survivor;
  }

  // The holder's caseworker reads the record, then writes a new one: two
  // logged actions, each its own write-ahead log record.
  void CaseworkerActivity(const Survivor& survivor) {
    auto records = haven::v1::RecordService::NewStub(channel(kHolder));
    haven::v1::GetRecordRequest get;
    get.set_subject_id(survivor.subject_id);
    get.set_record_id(survivor.record_id);
    haven::v1::GetRecordResponse got;
    grpc::Status status =
        records->GetRecord(Call(kHolder, "caseworker").get(), get, &got);
    ASSERT_TRUE(status.ok()) << status.error_message();
    haven::v1::PutRecordRequest put;
    put.set_subject_id(survivor.subject_id);
    haven::v1::Field* field = put.add_fields();
    field->set_name("stage");
    field->set_category(haven::v1::CASE_STATUS);
    field->set_value("open");
    haven::v1::PutRecordResponse stored;
    status =
        records->PutRecord(Call(kHolder, "caseworker").get(), put, &stored);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // The advocate records a consent at the holder; `consent_id` gets its id.
  grpc::Status RecordConsent(const std::string& subject,
                             const std::string& grantee, Purpose purpose,
                             const std::vector<Category>& categories,
                             std::string* consent_id = nullptr) {
    haven::v1::RecordConsentResponse response;
    grpc::Status status = FederationCalls::RecordConsent(
        NewConsent(subject, grantee, purpose, categories, 30 * 86400),
        &response);
    if (consent_id != nullptr) {
      *consent_id = response.receipt().consent().consent_id();
    }
    return status;
  }

  grpc::Status Revoke(const std::string& consent_id) {
    return FederationCalls::Revoke(consent_id, kRevokeReason);
  }

  // The consent's current version, as the holder's advocate sees it.
  haven::v1::Consent CurrentConsent(const std::string& consent_id) {
    haven::v1::GetConsentRequest request;
    request.set_consent_id(consent_id);
    auto stub = haven::v1::ConsentService::NewStub(channel(kHolder));
    haven::v1::GetConsentResponse response;
    grpc::Status status =
        stub->GetConsent(Call(kHolder, "advocate").get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_GT(response.history_size(), 0);
    return response.history_size() > 0
               ? response.history(response.history_size() - 1)
               : haven::v1::Consent();
  }

  // Receipts at legal-aid of answers that gave it something.
  int DisclosuresReceivedByLegalAid() {
    int received = 0;
    for (const auto& indexed : Entries(kLegalAid)) {
      received += indexed.entry().kind() == haven::v1::DISCLOSURE_RECEIVED &&
                  indexed.entry().agency_id() == kHolder &&
                  indexed.entry().given_size() > 0;
    }
    return received;
  }

  // The size of `agency`'s log, from its latest signed checkpoint.
  uint64_t TreeSize(const std::string& agency) {
    auto stub = haven::v1::AuditService::NewStub(channel(agency));
    haven::v1::GetCheckpointResponse response;
    grpc::Status status =
        stub->GetCheckpoint(Call(agency, "auditor").get(),
                            haven::v1::GetCheckpointRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.checkpoint().tree_size();
  }

  // Waits (bounded) until the checkpoint file beside the holder's database
  // covers `size` entries; it is written a few milliseconds after each
  // commit.
  void WaitForCheckpointFile(uint64_t size) {
    const auto give_up = In(std::chrono::seconds(5));
    while (CheckpointFileSize(DataDir(kHolder)) < size &&
           std::chrono::system_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_GE(CheckpointFileSize(DataDir(kHolder)), size)
        << "the checkpoint file did not reach " << size << " entries in 5 s";
  }

  // A mutual-TLS stub on the holder's peer API presenting `agency`'s
  // certificate (a new channel: the holder may have restarted).
  std::unique_ptr<haven::v1::PeerService::Stub> PeerStubAs(
      const std::string& agency) {
    return haven::v1::PeerService::NewStub(
        PeerChannel(*federation_, agency, kHolder));
  }

  static haven::v1::DisclosureRequest NewPeerRequest(const std::string& handle,
                                                     Purpose purpose,
                                                     Category category) {
    haven::v1::DisclosureRequest request;
    request.set_request_id(RandomHex(16));
    request.set_sent_unix(NowUnix());
    request.set_requester_agency_id(kLegalAid);
    request.set_handle(handle);
    request.set_purpose(purpose);
    request.add_categories(category);
    request.set_requester_principal(std::string(kLegalAid) + "-caseworker");
    return request;
  }

  // Sends `batch` to the holder's peer API (see SendBatch).
  grpc::Status SendBatch(haven::v1::PeerService::Stub& stub,
                         const haven::v1::DiscloseRequest& batch,
                         std::vector<haven::v1::DisclosureAnswer>* answers) {
    return haven::testing::SendBatch(stub, *federation_, kHolder, batch,
                                     answers);
  }

  // Legal-aid's key and certificate, used directly on the holder's peer
  // API, ask for CONTACT with `handle`; returns whether a phone number came
  // back.
  bool PeerRequestDisclosesPhone(const std::string& handle) {
    auto signer = NodeSigner(*federation_, kLegalAid);
    EXPECT_NE(signer, nullptr);
    if (signer == nullptr) return false;
    auto peer = PeerStubAs(kLegalAid);
    std::vector<haven::v1::DisclosureAnswer> answers;
    grpc::Status status = SendBatch(
        *peer,
        SignedBatch(*signer,
                    {NewPeerRequest(handle, haven::v1::LEGAL_REPRESENTATION,
                                    haven::v1::CONTACT)}),
        &answers);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (answers.size() != 1) return false;
    return answers[0].has_disclosure() &&
           HasPhone(answers[0].disclosure().fields());
  }

  // A survivor, a consent for legal-aid to reach them by phone for legal
  // representation, legal-aid's handle, and one disclosure of the phone
  // number to legal-aid through its node.
  void ConsentedSurvivorSeenByLegalAid(Survivor* survivor,
                                       std::string* consent_id,
                                       std::string* handle) {
    *survivor = CreateSurvivor();
    grpc::Status status = RecordConsent(survivor->subject_id, kLegalAid,
                                        haven::v1::LEGAL_REPRESENTATION,
                                        {haven::v1::CONTACT}, consent_id);
    ASSERT_TRUE(status.ok()) << status.error_message();
    *handle = WaitForHandle(kLegalAid);
    ASSERT_FALSE(handle->empty());
    haven::v1::RequestDisclosureResponse response;
    status = Request(kLegalAid, *handle, haven::v1::LEGAL_REPRESENTATION,
                     {haven::v1::CONTACT}, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_TRUE(HasPhone(response.fields()));
    ASSERT_EQ(DisclosuresReceivedByLegalAid(), 1);
  }

  TempDir dir_;
  std::unique_ptr<TestFederation> federation_;
};

// What a user would notice: a disk that flips a bit in the write-ahead log
// after a revocation never hands the survivor's phone number to the agency
// whose consent was revoked. The node either refuses to start, naming the
// problem, or starts with the consent still revoked.
TEST_F(DurabilityTest, BitFlipInWalAfterRevocationNeverRevivesTheConsent) {
  ASSERT_NO_FATAL_FAILURE(StartFederation(/*with_police=*/false));
  Survivor survivor;
  std::string consent;
  std::string handle;
  ASSERT_NO_FATAL_FAILURE(
      ConsentedSurvivorSeenByLegalAid(&survivor, &consent, &handle));

  grpc::Status status = Revoke(consent);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string wal = NewestWal(DataDir(kHolder));
  ASSERT_FALSE(wal.empty());
  const uint64_t revoked_at = fs::file_size(wal);

  // Records after the revocation's: the caseworker's work goes on.
  ASSERT_NO_FATAL_FAILURE(CaseworkerActivity(survivor));
  ASSERT_NO_FATAL_FAILURE(CaseworkerActivity(survivor));
  ASSERT_NO_FATAL_FAILURE(WaitForCheckpointFile(TreeSize(kHolder)));
  node(kHolder).Kill();

  ASSERT_EQ(NewestWal(DataDir(kHolder)), wal);
  const uint64_t flipped = revoked_at + 24;
  ASSERT_LT(flipped, fs::file_size(wal));
  ASSERT_NO_FATAL_FAILURE(FlipBit(wal, flipped));

  const StartOutcome restart = TryStart(node(kHolder));
  if (!restart.started) {
    ASSERT_TRUE(restart.exit_code.has_value()) << restart.log;
    EXPECT_NE(*restart.exit_code, 0) << restart.log;
    EXPECT_THAT(restart.log,
                AnyOf(HasSubstr("this node signed a checkpoint of"),
                      HasSubstr("Corruption"), HasSubstr("corrupt")))
        << restart.log;
  } else {
    Connect(kHolder);
    const haven::v1::Consent current = CurrentConsent(consent);
    EXPECT_EQ(current.status(), haven::v1::REVOKED)
        << current.ShortDebugString();
    EXPECT_EQ(current.status_reason(), kRevokeReason);
    haven::v1::RequestDisclosureResponse response;
    status = Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                     {haven::v1::CONTACT}, &response);
    EXPECT_EQ(response.fields_size(), 0) << status.error_message();
    EXPECT_FALSE(PeerRequestDisclosesPhone(handle));
  }
  // Whatever happened, legal-aid received the phone number only while the
  // consent was in force.
  EXPECT_EQ(DisclosuresReceivedByLegalAid(), 1);
}

// What a user would notice: when the tail of the write-ahead log is lost
// (a cut at a record boundary, so it reads as a clean shorter log), the
// node refuses to start and says which acknowledged writes are missing,
// instead of carrying on and giving the lost entries' indices to new ones.
TEST_F(DurabilityTest, WalCutAtRecordBoundaryIsDetectedNotReused) {
  ASSERT_NO_FATAL_FAILURE(StartFederation(/*with_police=*/false));
  Survivor survivor;
  std::string consent;
  std::string handle;
  ASSERT_NO_FATAL_FAILURE(
      ConsentedSurvivorSeenByLegalAid(&survivor, &consent, &handle));

  grpc::Status status = Revoke(consent);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string wal = NewestWal(DataDir(kHolder));
  ASSERT_FALSE(wal.empty());
  const uint64_t revoked_at = fs::file_size(wal);
  const uint64_t size_at_revoke = TreeSize(kHolder);

  ASSERT_NO_FATAL_FAILURE(CaseworkerActivity(survivor));
  ASSERT_NO_FATAL_FAILURE(CaseworkerActivity(survivor));
  const uint64_t size_at_kill = TreeSize(kHolder);
  ASSERT_GT(size_at_kill, size_at_revoke);
  ASSERT_NO_FATAL_FAILURE(WaitForCheckpointFile(size_at_kill));
  node(kHolder).Kill();

  ASSERT_EQ(NewestWal(DataDir(kHolder)), wal);
  ASSERT_GT(fs::file_size(wal), revoked_at);
  fs::resize_file(wal, revoked_at);

  // Twice: the first refused start must not have made the second one
  // possible (for instance by persisting the shorter log as the truth).
  for (int attempt = 0; attempt < 2; ++attempt) {
    const StartOutcome restart = TryStart(node(kHolder));
    ASSERT_FALSE(restart.started)
        << "attempt " << attempt << ": " << restart.log;
    ASSERT_TRUE(restart.exit_code.has_value());
    EXPECT_EQ(*restart.exit_code, 1) << restart.log;
    EXPECT_THAT(restart.log,
                HasSubstr(absl::StrCat("this node signed a checkpoint of ",
                                       size_at_kill, " audit entries")))
        << "attempt " << attempt;
    EXPECT_THAT(restart.log,
                HasSubstr(absl::StrCat("holds only ", size_at_revoke)))
        << "attempt " << attempt;
    EXPECT_THAT(restart.log, Not(HasSubstr("node_started")));
  }
  EXPECT_EQ(DisclosuresReceivedByLegalAid(), 1);
}

// What a user would notice: if the disk fails while an advocate records a
// consent, the advocate is told it failed, the node stops, and after the
// restart there is no such consent: the grantee never gets a handle or any
// data, and the audit log says the failed write was voided.
TEST_F(DurabilityTest, FailedFdatasyncDuringRecordConsentLeavesNoConsent) {
  const std::string trigger = dir_.Join("fail-sync-now");
  // In a sanitizer build the preloaded library comes ahead of ASan's
  // runtime, which ASan refuses unless told that this order is intended.
  std::string asan_options = "verify_asan_link_order=0";
  if (const char* inherited = std::getenv("ASAN_OPTIONS");
      inherited != nullptr && *inherited != '\0') {
    asan_options = absl::StrCat(inherited, ":", asan_options);
  }
  ASSERT_NO_FATAL_FAILURE(StartFederation(
      /*with_police=*/false,
      {std::string("LD_PRELOAD=") + HAVEN_TEST_FAIL_SYNC_PRELOAD,
       "HAVEN_FAIL_SYNC_TRIGGER=" + trigger, "ASAN_OPTIONS=" + asan_options}));
  TestNode& holder = node(kHolder);
  const Survivor survivor = CreateSurvivor();
  ASSERT_FALSE(survivor.record_id.empty());

  std::ofstream(trigger).put('\n');
  ASSERT_TRUE(fs::exists(trigger));
  grpc::Status status =
      RecordConsent(survivor.subject_id, kLegalAid,
                    haven::v1::LEGAL_REPRESENTATION, {haven::v1::CONTACT});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  const std::optional<int> exit_code =
      holder.WaitForExit(std::chrono::seconds(15));
  ASSERT_TRUE(exit_code.has_value()) << "havend still runs: " << holder.Log();
  EXPECT_EQ(*exit_code, 3) << holder.Log();
  // The library made the write-ahead log's sync fail, and the node stopped
  // because of it.
  EXPECT_THAT(holder.Log(), HasSubstr("fail_sync_preload: fdatasync("));
  EXPECT_THAT(holder.Log(), HasSubstr("fail_stop"));
  // What the failed commit leaves for the next start.
  EXPECT_TRUE(fs::exists(DataDir(kHolder) + "/haven-unconfirmed-commit"))
      << "no side file for the failed commit; the data dir holds: " <<
      [&] {
        std::string names;
        for (const auto& f : fs::directory_iterator(DataDir(kHolder))) {
          names += f.path().filename().string() + " ";
        }
        return names;
      }()
      << "\nholder log:\n"
      << holder.Log();

  fs::remove(trigger);
  const StartOutcome restart = TryStart(holder);
  ASSERT_TRUE(restart.started) << restart.log;
  Connect(kHolder);
  EXPECT_THAT(restart.log, HasSubstr("recovered_failed_commit"));

  auto consents = haven::v1::ConsentService::NewStub(channel(kHolder));
  haven::v1::ListConsentsRequest list;
  list.set_subject_id(survivor.subject_id);
  haven::v1::ListConsentsResponse listed;
  status =
      consents->ListConsents(Call(kHolder, "advocate").get(), list, &listed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(listed.consents(), IsEmpty()) << listed.ShortDebugString();

  // The record written before the failure is still there.
  auto records = haven::v1::RecordService::NewStub(channel(kHolder));
  haven::v1::GetRecordRequest get;
  get.set_subject_id(survivor.subject_id);
  get.set_record_id(survivor.record_id);
  haven::v1::GetRecordResponse got;
  status = records->GetRecord(Call(kHolder, "caseworker").get(), get, &got);
  EXPECT_TRUE(status.ok()) << status.error_message();

  std::string out;
  EXPECT_EQ(holder.Havenctl("auditor",
                            {"audit", "verify", "--state",
                             dir_.Join("auditor/audit.state")},
                            &out),
            0)
      << out;

  // The consent's entry is on record, and voided.
  const auto log = Entries(kHolder);
  std::optional<uint64_t> recorded;
  const haven::v1::AuditEntry* voided = nullptr;
  for (const auto& indexed : log) {
    if (indexed.entry().kind() == haven::v1::CONSENT_RECORDED) {
      recorded = indexed.index();
    }
    if (indexed.entry().kind() == haven::v1::WRITES_VOIDED) {
      voided = &indexed.entry();
    }
  }
  EXPECT_NE(voided, nullptr) << "no WRITES_VOIDED entry in the holder's log";
  EXPECT_TRUE(recorded.has_value()) << "no CONSENT_RECORDED entry";
  if (voided != nullptr && recorded.has_value()) {
    EXPECT_GE(*recorded, voided->voided().first());
    EXPECT_LT(*recorded, voided->voided().end());
  }

  // Legal-aid never gets a handle for the survivor, so cannot name them.
  // A consent for another survivor makes the holder send legal-aid what its
  // outbox holds for it (oldest first); revoking that consent withdraws the
  // new handle again. What legal-aid holds then came from the failed
  // commit.
  EXPECT_THAT(Handles(kLegalAid), IsEmpty());
  const Survivor other = CreateSurvivor();
  std::string other_consent;
  status = RecordConsent(other.subject_id, kLegalAid,
                         haven::v1::LEGAL_REPRESENTATION, {haven::v1::CONTACT},
                         &other_consent);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::vector<std::string> delivered = WaitForHandles(
      kLegalAid, [](const std::vector<std::string>& h) { return !h.empty(); });
  ASSERT_FALSE(delivered.empty()) << "legal-aid received no handle in 10 s";
  EXPECT_EQ(delivered.size(), 1u);
  status = Revoke(other_consent);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::vector<std::string> handles =
      WaitForHandles(kLegalAid, [&](const std::vector<std::string>& h) {
        return h.size() < delivered.size();
      });
  ASSERT_LT(handles.size(), delivered.size())
      << "legal-aid did not forget the withdrawn handle in 10 s";
  EXPECT_THAT(handles, IsEmpty());
  // Nothing it holds from the holder gets it anything.
  for (const std::string& handle : handles) {
    EXPECT_FALSE(PeerRequestDisclosesPhone(handle)) << handle;
  }
  EXPECT_EQ(DisclosuresReceivedByLegalAid(), 0);
}

// What a user would notice: someone with access to a stopped node's disk
// who edits, deletes or swaps stored consents, refusals or handles with
// RocksDB's own tools cannot make the node obey the change: it refuses to
// start and says the stored data was altered.
TEST_F(DurabilityTest,
       ConsentRefusalAndHandleTamperedWithRocksDbApiStopTheNode) {
  ASSERT_NO_FATAL_FAILURE(StartFederation(/*with_police=*/true));
  const Survivor survivor = CreateSurvivor();
  std::string legal_consent;
  grpc::Status status = RecordConsent(survivor.subject_id, kLegalAid,
                                      haven::v1::LEGAL_REPRESENTATION,
                                      {haven::v1::CONTACT}, &legal_consent);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string legal_handle = WaitForHandle(kLegalAid);
  ASSERT_FALSE(legal_handle.empty());
  std::string police_consent;
  status =
      RecordConsent(survivor.subject_id, kPolice, haven::v1::SAFETY_PLANNING,
                    {haven::v1::CONTACT}, &police_consent);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string police_handle = WaitForHandle(kPolice);
  ASSERT_FALSE(police_handle.empty());
  // A second consent for legal-aid, revoked; the first still covers
  // legal-aid, so its handle stays.
  std::string revoked_consent;
  status = RecordConsent(survivor.subject_id, kLegalAid,
                         haven::v1::LEGAL_REPRESENTATION,
                         {haven::v1::IMMIGRATION}, &revoked_consent);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(Revoke(revoked_consent).ok());
  // A refusal for another survivor, recorded and lifted.
  const Survivor other = CreateSurvivor();
  auto consents = haven::v1::ConsentService::NewStub(channel(kHolder));
  haven::v1::RecordRefusalRequest refuse;
  refuse.set_subject_id(other.subject_id);
  haven::v1::RecordRefusalResponse refused;
  status = consents->RecordRefusal(Call(kHolder, "advocate").get(), refuse,
                                   &refused);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string refusal = refused.refusal().refusal_id();
  haven::v1::LiftRefusalRequest lift;
  lift.set_refusal_id(refusal);
  haven::v1::LiftRefusalResponse lifted;
  status =
      consents->LiftRefusal(Call(kHolder, "advocate").get(), lift, &lifted);
  ASSERT_TRUE(status.ok()) << status.error_message();

  // A sharing policy loaded at run time, stored with its entry (stricter
  // than the file's, so that putting the file's back would matter).
  auto admin = haven::v1::AdminService::NewStub(channel(kHolder));
  haven::v1::GetPolicyResponse in_force;
  status = admin->GetPolicy(Call(kHolder, "admin").get(),
                            haven::v1::GetPolicyRequest(), &in_force);
  ASSERT_TRUE(status.ok()) << status.error_message();
  in_force.mutable_policy()->set_min_justification_chars(60);
  haven::v1::LoadPolicyRequest load;
  ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(
      in_force.policy(), load.mutable_policy_text()));
  haven::v1::LoadPolicyResponse loaded;
  status = admin->LoadPolicy(Call(kHolder, "admin").get(), load, &loaded);
  ASSERT_TRUE(status.ok()) << status.error_message();

  // An idle client connection holds a node's clean stop for its whole
  // shutdown grace period (5 s): let go of them first.
  consents.reset();
  admin.reset();
  Disconnect();
  TestNode& holder = node(kHolder);
  ASSERT_EQ(holder.Stop(), 0);
  ASSERT_EQ(node(kLegalAid).Stop(), 0);
  ASSERT_EQ(node(kPolice).Stop(), 0);
  const std::string data = DataDir(kHolder);
  const std::string saved = dir_.Join("holder-data-copy");
  fs::copy(data, saved, fs::copy_options::recursive);

  auto restore = [&] {
    fs::remove_all(data);
    fs::copy(saved, data, fs::copy_options::recursive);
  };
  auto open = [&]() -> std::unique_ptr<Database> {
    Database::Options options;
    options.path = data;
    options.create_if_missing = false;
    auto db = Database::Open(std::move(options));
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? *std::move(db) : nullptr;
  };

  // The keys as the holder stored them.
  std::string newest_revoked_version;
  {
    auto db = open();
    ASSERT_NE(db, nullptr);
    std::unique_ptr<rocksdb::Iterator> it(db->db()->NewIterator(
        rocksdb::ReadOptions(), db->family(Family::kConsent)));
    const std::string prefix = "c/" + revoked_consent + "/";
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      newest_revoked_version = it->key().ToString();
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  }
  ASSERT_EQ(newest_revoked_version, "c/" + revoked_consent + "/00000002");
  const std::string legal_version = "c/" + legal_consent + "/00000001";
  const std::string police_version = "c/" + police_consent + "/00000001";
  const std::string refusal_key = "r/" + refusal;
  const std::string legal_issued = "h/" + legal_handle;
  const std::string police_issued = "h/" + police_handle;

  auto get = [](Database& db, Family family, const std::string& key) {
    std::string value;
    rocksdb::Status s =
        db.db()->Get(rocksdb::ReadOptions(), db.family(family), key, &value);
    EXPECT_TRUE(s.ok()) << key << ": " << s.ToString();
    return value;
  };
  auto put = [](Database& db, Family family, const std::string& key,
                const std::string& value) {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    rocksdb::Status s = db.db()->Put(sync, db.family(family), key, value);
    EXPECT_TRUE(s.ok()) << key << ": " << s.ToString();
  };
  auto remove = [](Database& db, Family family, const std::string& key) {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    rocksdb::Status s = db.db()->Delete(sync, db.family(family), key);
    EXPECT_TRUE(s.ok()) << key << ": " << s.ToString();
  };
  auto edit = [&](Database& db, Family family, const std::string& key) {
    std::string value = get(db, family, key);
    ASSERT_FALSE(value.empty()) << key;
    value[value.size() / 2] ^= 0x01;
    put(db, family, key, value);
  };
  auto swap = [&](Database& db, Family family, const std::string& a,
                  const std::string& b) {
    const std::string value_a = get(db, family, a);
    const std::string value_b = get(db, family, b);
    ASSERT_NE(value_a, value_b);
    put(db, family, a, value_b);
    put(db, family, b, value_a);
  };

  struct Case {
    std::string name;
    std::function<void(Database&)> tamper;
  };
  const std::vector<Case> cases = {
      {"edited consent version",
       [&](Database& db) { edit(db, Family::kConsent, legal_version); }},
      {"deleted newest version of the revoked consent",
       [&](Database& db) {
         remove(db, Family::kConsent, newest_revoked_version);
       }},
      {"consent values swapped between keys",
       [&](Database& db) {
         swap(db, Family::kConsent, legal_version, police_version);
       }},
      {"edited refusal",
       [&](Database& db) { edit(db, Family::kConsent, refusal_key); }},
      {"deleted refusal",
       [&](Database& db) { remove(db, Family::kConsent, refusal_key); }},
      {"edited issued handle",
       [&](Database& db) { edit(db, Family::kExchange, legal_issued); }},
      {"deleted issued handle",
       [&](Database& db) { remove(db, Family::kExchange, legal_issued); }},
      {"edited run-time policy",
       [&](Database& db) { edit(db, Family::kConsent, "p/in-force"); }},
      {"deleted run-time policy (the file's would apply again)",
       [&](Database& db) { remove(db, Family::kConsent, "p/in-force"); }},
      {"issued handles swapped between keys",
       [&](Database& db) {
         swap(db, Family::kExchange, legal_issued, police_issued);
       }},
  };

  // The copy itself is sound: restored untouched, the node starts.
  restore();
  StartOutcome untouched = TryStart(holder);
  ASSERT_TRUE(untouched.started) << untouched.log;
  ASSERT_EQ(holder.Stop(), 0);

  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    restore();
    {
      auto db = open();
      ASSERT_NE(db, nullptr);
      c.tamper(*db);
    }
    const StartOutcome outcome = TryStart(holder);
    EXPECT_FALSE(outcome.started) << outcome.log;
    if (outcome.started) {
      holder.Kill();
      continue;
    }
    ASSERT_TRUE(outcome.exit_code.has_value());
    EXPECT_NE(*outcome.exit_code, 0);
    EXPECT_THAT(outcome.log,
                AnyOf(HasSubstr("failed authentication"),
                      HasSubstr("not what the audit log's last commit")))
        << outcome.log;
  }
}

// What a user would notice: a disclosure request captured on the wire and
// sent again right after the holder crashed and restarted is refused as a
// replay: it gets nothing and does not count as a use of the consent.
TEST_F(DurabilityTest, ReplayedBatchAfterSigkillIsRefusedAndUsesNothing) {
  ASSERT_NO_FATAL_FAILURE(StartFederation(/*with_police=*/false));
  const Survivor survivor = CreateSurvivor();
  std::string consent;
  grpc::Status status = RecordConsent(survivor.subject_id, kLegalAid,
                                      haven::v1::LEGAL_REPRESENTATION,
                                      {haven::v1::CONTACT}, &consent);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string handle = WaitForHandle(kLegalAid);
  ASSERT_FALSE(handle.empty());
  auto signer = NodeSigner(*federation_, kLegalAid);
  ASSERT_NE(signer, nullptr);

  const haven::v1::DisclosureRequest request = NewPeerRequest(
      handle, haven::v1::LEGAL_REPRESENTATION, haven::v1::CONTACT);
  const haven::v1::DiscloseRequest batch = SignedBatch(*signer, {request});
  const auto first_sent = std::chrono::steady_clock::now();
  std::vector<haven::v1::DisclosureAnswer> answers;
  status = SendBatch(*PeerStubAs(kLegalAid), batch, &answers);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(answers.size(), 1u);
  ASSERT_TRUE(answers[0].has_disclosure())
      << answers[0].refusal().ShortDebugString();
  EXPECT_TRUE(HasPhone(answers[0].disclosure().fields()));
  const uint64_t uses = CurrentConsent(consent).use_count();
  EXPECT_GE(uses, 1u);

  TestNode& holder = node(kHolder);
  holder.Kill();
  const StartOutcome restart = TryStart(holder);
  ASSERT_TRUE(restart.started) << restart.log;
  Connect(kHolder);

  status = SendBatch(*PeerStubAs(kLegalAid), batch, &answers);
  // Well inside the holder's freshness window: only its memory of request
  // ids can refuse this.
  EXPECT_LT(std::chrono::steady_clock::now() - first_sent,
            std::chrono::seconds(60));
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].request_id(), request.request_id());
  ASSERT_TRUE(answers[0].has_refusal())
      << "the replay was answered: " << answers[0].ShortDebugString();
  EXPECT_EQ(answers[0].refusal().code(), grpc::StatusCode::ALREADY_EXISTS)
      << answers[0].refusal().message();
  EXPECT_FALSE(answers[0].has_disclosure());
  EXPECT_EQ(CurrentConsent(consent).use_count(), uses);

  // The holder disclosed once under this request id, and logged the replay
  // as refused.
  int disclosed = 0;
  int refused = 0;
  for (const auto& indexed : Entries(kHolder)) {
    if (indexed.entry().request_id() != request.request_id()) continue;
    disclosed += indexed.entry().kind() == haven::v1::DISCLOSURE;
    refused += indexed.entry().kind() == haven::v1::REQUEST_REFUSED;
  }
  EXPECT_EQ(disclosed, 1);
  EXPECT_EQ(refused, 1);
}

}  // namespace
}  // namespace haven::testing

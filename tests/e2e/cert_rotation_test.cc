// Certificate rotation without refused requests, against real havend
// processes: safe-harbor holds a survivor's phone number and legal-aid asks
// for it, over and over, from several threads. The task force lists each
// member's next certificate beside its current one (next_cert_sha256);
// while the requests run, the holder switches to its next certificate (the
// one its peer API serves), then the requester does (the one its calls
// present), each with `admin reload-certificate` and no restart. Not one
// request may fail. Once the manifest lists only the new certificates, a
// request still succeeds, which only the new certificates on both sides
// can make happen; and going back to the old certificate is refused.
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "gtest/gtest.h"
#include "haven/v1/admin.grpc.pb.h"
#include "server/federation/peer_identity.h"
#include "tests/testing/federation_calls.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_federation.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kHolder[] = "safe-harbor";
constexpr char kLegalAid[] = "legal-aid";
// Requests each phase must see before the test moves on.
constexpr int kPerPhase = 30;
constexpr int kThreads = 4;

std::string Fingerprint(const std::string& cert_file) {
  auto fingerprint =
      server::federation::CertificateFingerprint(ReadFileOrEmpty(cert_file));
  return fingerprint.ok() ? *fingerprint : "";
}

// Puts `from`'s bytes at `to` in one rename, as an operator's deploy would.
bool ReplaceFile(const std::string& from, const std::string& to, int mode) {
  const std::string staged = to + ".new";
  {
    std::ofstream out(staged, std::ios::binary | std::ios::trunc);
    out << ReadFileOrEmpty(from);
    if (!out) return false;
  }
  return chmod(staged.c_str(), mode) == 0 &&
         std::rename(staged.c_str(), to.c_str()) == 0;
}

// Records the certificate a server presents; accepts any (the chain to the
// CA is still checked by gRPC).
class RecordingVerifier final
    : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit RecordingVerifier(std::string* seen) : seen_(seen) {}
  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)>,
              grpc::Status* sync_status) override {
    *seen_ =
        std::string(request->peer_cert().data(), request->peer_cert().size());
    *sync_status = grpc::Status::OK;
    return true;
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {
  }

 private:
  std::string* seen_;
};

// The fingerprint of the certificate a new connection to `address` (a peer
// API) is shown, presenting `cert_file`/`key_file`; "" if none connects.
std::string ServedFingerprint(const std::string& address,
                              const std::string& server_name,
                              const std::string& ca_file,
                              const std::string& cert_file,
                              const std::string& key_file) {
  std::string seen;
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(
      std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
          ReadFileOrEmpty(ca_file),
          std::vector<grpc::experimental::IdentityKeyCertPair>{
              {ReadFileOrEmpty(key_file), ReadFileOrEmpty(cert_file)}}));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  options.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<
          RecordingVerifier>(&seen));
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(server_name);
  // A connection of its own, never one shared with an earlier probe.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(
      address, grpc::experimental::TlsCredentials(options), args);
  if (!channel->WaitForConnected(In(std::chrono::seconds(5)))) return "";
  auto fingerprint = server::federation::CertificateFingerprint(seen);
  return fingerprint.ok() ? *fingerprint : "";
}

class CertRotationTest : public ::testing::Test, public FederationCalls {
 protected:
  CertRotationTest() : FederationCalls(kHolder) {}

  void TearDown() override { StopLoad(); }

  std::string CertFile(const std::string& pki, const std::string& agency) {
    return pki + "/" + agency + "/node.crt";
  }
  std::string KeyFile(const std::string& pki, const std::string& agency) {
    return pki + "/" + agency + "/node.key";
  }

  // Writes the manifest with `serial`, applying `edit` to its text, and has
  // every node reload it.
  void PublishManifest(
      int serial,
      const std::vector<std::pair<std::string, std::string>>& replacements) {
    std::string text = federation_->manifest_text();
    text = absl::StrReplaceAll(text, replacements);
    const size_t at = text.find("serial: ");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, text.find('\n', at) - at,
                 absl::StrCat("serial: ", serial));
    federation_->WriteManifest(text);
    for (const char* agency : {kHolder, kLegalAid}) {
      auto admin = haven::v1::AdminService::NewStub(channel(agency));
      haven::v1::ReloadManifestResponse reloaded;
      grpc::Status status =
          admin->ReloadManifest(Call(agency, "admin").get(),
                                haven::v1::ReloadManifestRequest(), &reloaded);
      if (!status.ok()) {
        // The other node's gossip may have brought it first.
        haven::v1::GetStatusResponse now;
        ASSERT_TRUE(admin
                        ->GetStatus(Call(agency, "admin").get(),
                                    haven::v1::GetStatusRequest(), &now)
                        .ok());
        ASSERT_EQ(now.manifest_serial(), static_cast<uint64_t>(serial))
            << agency << ": " << status.error_message();
        continue;
      }
      ASSERT_EQ(reloaded.serial(), static_cast<uint64_t>(serial));
    }
  }

  grpc::Status ReloadCertificate(const std::string& agency,
                                 haven::v1::ReloadCertificateResponse* out) {
    auto admin = haven::v1::AdminService::NewStub(channel(agency));
    return admin->ReloadCertificate(Call(agency, "admin").get(),
                                    haven::v1::ReloadCertificateRequest(), out);
  }

  // Disclosure requests from legal-aid, from kThreads threads, until
  // StopLoad (each thread at most 20000).
  void StartLoad(const std::string& handle) {
    for (int t = 0; t < kThreads; ++t) {
      load_.emplace_back([this, handle] {
        for (int i = 0; i < 20000 && !stop_.load(); ++i) {
          const int phase = phase_.load();
          haven::v1::RequestDisclosureResponse answer;
          grpc::Status status =
              Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                      {haven::v1::CONTACT}, &answer);
          if (status.ok() && answer.fields_size() == 1 &&
              answer.fields(0).value() == "555-0100") {
            ++succeeded_[phase];
          } else {
            ++failed_;
            std::lock_guard<std::mutex> lock(mu_);
            if (first_failure_.empty()) {
              first_failure_ = absl::StrCat(
                  "phase ", phase, ": ", status.error_code(), " ",
                  status.error_message(), " fields ", answer.fields_size());
            }
          }
        }
      });
    }
  }
  void StopLoad() {
    stop_ = true;
    for (auto& thread : load_) thread.join();
    load_.clear();
  }
  // Waits (bounded, 60 s) until the current phase has seen kPerPhase
  // successful requests, or one failed.
  bool AwaitPhaseLoad() {
    const int phase = phase_.load();
    const auto give_up = In(std::chrono::seconds(60));
    while (succeeded_[phase].load() < kPerPhase && failed_.load() == 0 &&
           std::chrono::system_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return succeeded_[phase].load() >= kPerPhase;
  }
  // Polls (bounded, 10 s) new connections to the holder's peer API until
  // one is shown `fingerprint`; returns the last fingerprint seen.
  std::string AwaitHolderServes(const std::string& fingerprint,
                                const std::string& pki) {
    std::string seen;
    const auto give_up = In(std::chrono::seconds(10));
    while (std::chrono::system_clock::now() < give_up) {
      seen = ServedFingerprint(
          federation_->node(kHolder).peer_address(), kHolder, pki + "/ca.crt",
          CertFile(pki, kLegalAid), KeyFile(pki, kLegalAid));
      if (seen == fingerprint) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return seen;
  }

  TempDir dir_;
  std::unique_ptr<TestFederation> federation_;
  std::vector<std::thread> load_;
  std::atomic<bool> stop_{false};
  std::atomic<int> phase_{0};
  std::atomic<int> succeeded_[3] = {0, 0, 0};
  std::atomic<int> failed_{0};
  std::mutex mu_;
  std::string first_failure_;
};

int CountRotations(const std::vector<haven::v1::IndexedEntry>& entries,
                   const std::string& fingerprint) {
  int count = 0;
  for (const auto& e : entries) {
    count += e.entry().kind() == haven::v1::KEY_ROTATED &&
             e.entry().detail().find(fingerprint) != std::string::npos;
  }
  return count;
}

TEST_F(CertRotationTest, MembersSwitchToNextCertificateWithNoRefusedRequest) {
  federation_ = std::make_unique<TestFederation>(dir_.path());
  set_federation(federation_.get());
  std::string error;
  ASSERT_TRUE(federation_->Create({ExampleMember(kHolder, "VICTIM_SERVICES"),
                                   ExampleMember(kLegalAid, "LEGAL_SERVICES")},
                                  &error))
      << error;
  ASSERT_TRUE(federation_->Start(&error)) << error;
  Connect(kHolder);
  Connect(kLegalAid);
  const std::string pki = federation_->pki_dir();

  const std::string survivor =
      CreateSubject({NewField("phone", haven::v1::CONTACT, "555-0100")});
  const std::string handle = ConsentAndWaitForHandle(
      survivor, kLegalAid, haven::v1::LEGAL_REPRESENTATION,
      {haven::v1::CONTACT});
  ASSERT_FALSE(handle.empty());

  // The same CA issues both members their next certificates, kept apart
  // until each member switches.
  const std::string next_pki = dir_.path() + "/pki-next";
  ASSERT_EQ(mkdir(next_pki.c_str(), 0700), 0);
  ASSERT_TRUE(ReplaceFile(pki + "/ca.crt", next_pki + "/ca.crt", 0644));
  ASSERT_TRUE(ReplaceFile(pki + "/ca.key", next_pki + "/ca.key", 0600));
  std::string out;
  ASSERT_EQ(RunCommand({SourceDir() + "/deploy/make-certs.sh", next_pki,
                        kHolder, kLegalAid},
                       &out),
            0)
      << out;
  const std::string old_pki = dir_.path() + "/pki-old";
  ASSERT_EQ(mkdir(old_pki.c_str(), 0700), 0);
  std::map<std::string, std::string> old_fp, next_fp;
  for (const char* agency : {kHolder, kLegalAid}) {
    ASSERT_EQ(mkdir((old_pki + "/" + agency).c_str(), 0700), 0);
    ASSERT_TRUE(
        ReplaceFile(CertFile(pki, agency), CertFile(old_pki, agency), 0644));
    ASSERT_TRUE(
        ReplaceFile(KeyFile(pki, agency), KeyFile(old_pki, agency), 0600));
    old_fp[agency] = Fingerprint(CertFile(pki, agency));
    next_fp[agency] = Fingerprint(CertFile(next_pki, agency));
    ASSERT_FALSE(old_fp[agency].empty());
    ASSERT_FALSE(next_fp[agency].empty());
    ASSERT_NE(old_fp[agency], next_fp[agency]);
  }
  ASSERT_EQ(AwaitHolderServes(old_fp[kHolder], pki), old_fp[kHolder]);

  // Before the manifest lists it, a member cannot switch: its peers would
  // refuse the new certificate. Nothing changes.
  ASSERT_TRUE(
      ReplaceFile(CertFile(next_pki, kHolder), CertFile(pki, kHolder), 0644));
  ASSERT_TRUE(
      ReplaceFile(KeyFile(next_pki, kHolder), KeyFile(pki, kHolder), 0600));
  haven::v1::ReloadCertificateResponse reloaded;
  grpc::Status status = ReloadCertificate(kHolder, &reloaded);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("next_cert_sha256"));
  EXPECT_THAT(status.error_message(), HasSubstr(next_fp[kHolder]));

  // The rotation window: both fingerprints listed for each member.
  PublishManifest(
      2,
      {{absl::StrCat("cert_sha256: \"", old_fp[kHolder], "\""),
        absl::StrCat("cert_sha256: \"", old_fp[kHolder],
                     "\"\n  next_cert_sha256: \"", next_fp[kHolder], "\"")},
       {absl::StrCat("cert_sha256: \"", old_fp[kLegalAid], "\""),
        absl::StrCat("cert_sha256: \"", old_fp[kLegalAid],
                     "\"\n  next_cert_sha256: \"", next_fp[kLegalAid], "\"")}});

  StartLoad(handle);
  ASSERT_TRUE(AwaitPhaseLoad()) << first_failure_;

  // A half-done replacement (the new certificate, the old key) is refused
  // and changes nothing, while the requests go on.
  ASSERT_TRUE(
      ReplaceFile(KeyFile(old_pki, kHolder), KeyFile(pki, kHolder), 0600));
  status = ReloadCertificate(kHolder, &reloaded);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("tls.key_file"));

  // The holder switches: its peer API serves the next certificate to new
  // connections; the requester's connection made before keeps working.
  ASSERT_TRUE(
      ReplaceFile(KeyFile(next_pki, kHolder), KeyFile(pki, kHolder), 0600));
  status = ReloadCertificate(kHolder, &reloaded);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(reloaded.changed());
  EXPECT_EQ(reloaded.cert_sha256(), next_fp[kHolder]);
  EXPECT_EQ(AwaitHolderServes(next_fp[kHolder], pki), next_fp[kHolder]);
  phase_ = 1;
  ASSERT_TRUE(AwaitPhaseLoad()) << first_failure_;

  // The requester switches (with havenctl): its next calls present its
  // next certificate.
  ASSERT_TRUE(ReplaceFile(CertFile(next_pki, kLegalAid),
                          CertFile(pki, kLegalAid), 0644));
  ASSERT_TRUE(
      ReplaceFile(KeyFile(next_pki, kLegalAid), KeyFile(pki, kLegalAid), 0600));
  ASSERT_EQ(federation_->node(kLegalAid).Havenctl(
                "admin", {"admin", "reload-certificate"}, &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("switched to certificate " + next_fp[kLegalAid]));
  phase_ = 2;
  ASSERT_TRUE(AwaitPhaseLoad()) << first_failure_;
  StopLoad();

  const int total = succeeded_[0] + succeeded_[1] + succeeded_[2];
  std::printf(
      "requests: %d before, %d with the holder switched, %d with "
      "both switched; %d failed\n",
      succeeded_[0].load(), succeeded_[1].load(), succeeded_[2].load(),
      failed_.load());
  EXPECT_EQ(failed_.load(), 0) << first_failure_;
  EXPECT_GE(total, 3 * kPerPhase);
  // Each switch is on its node's record.
  EXPECT_EQ(CountRotations(Entries(kHolder), next_fp[kHolder]), 1);
  EXPECT_EQ(CountRotations(Entries(kLegalAid), next_fp[kLegalAid]), 1);
  // Reloading again with the same files changes nothing.
  status = ReloadCertificate(kHolder, &reloaded);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(reloaded.changed());

  // The window closes: only the new certificates are listed. A request
  // still succeeds, so the holder serves its new certificate (legal-aid's
  // node accepts nothing else now) and legal-aid presents its new one (the
  // holder identifies no other as legal-aid now).
  PublishManifest(
      3, {{absl::StrCat("cert_sha256: \"", old_fp[kHolder],
                        "\"\n  next_cert_sha256: \"", next_fp[kHolder], "\""),
           absl::StrCat("cert_sha256: \"", next_fp[kHolder], "\"")},
          {absl::StrCat("cert_sha256: \"", old_fp[kLegalAid],
                        "\"\n  next_cert_sha256: \"", next_fp[kLegalAid], "\""),
           absl::StrCat("cert_sha256: \"", next_fp[kLegalAid], "\"")}});
  haven::v1::RequestDisclosureResponse answer;
  status = Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                   {haven::v1::CONTACT}, &answer);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(answer.fields_size(), 1);

  // Going back to the old certificate is refused, and the holder stays on
  // its new one.
  ASSERT_TRUE(
      ReplaceFile(CertFile(old_pki, kHolder), CertFile(pki, kHolder), 0644));
  ASSERT_TRUE(
      ReplaceFile(KeyFile(old_pki, kHolder), KeyFile(pki, kHolder), 0600));
  status = ReloadCertificate(kHolder, &reloaded);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr(old_fp[kHolder]));
  EXPECT_EQ(AwaitHolderServes(next_fp[kHolder], next_pki), next_fp[kHolder]);
  status = Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                   {haven::v1::CONTACT}, &answer);
  EXPECT_TRUE(status.ok()) << status.error_message();

  // No key material in either node's log.
  for (const char* agency : {kHolder, kLegalAid}) {
    const std::string log = federation_->node(agency).Log();
    EXPECT_EQ(log.find("PRIVATE KEY"), std::string::npos) << agency;
  }
}

}  // namespace
}  // namespace haven::testing

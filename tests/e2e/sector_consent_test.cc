// End-to-end tests of consents granted to a whole sector, of membership
// changes that move an agency into or out of that sector, and of a refusal
// aimed at one agency. Five real havend processes on 127.0.0.1 share one
// federation manifest: safe-harbor (victim services, policy from
// policy/examples) holds the survivor's records; legal-aid and bay-legal
// are legal services; late-legal starts as a shelter and joins legal
// services through a manifest change reloaded on the holder; metro-pd is
// law enforcement.
#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "haven/v1/admin.grpc.pb.h"
#include "haven/v1/consent.grpc.pb.h"
#include "haven/v1/exchange.grpc.pb.h"
#include "tests/testing/federation_calls.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_federation.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

using ::haven::v1::Category;
using ::haven::v1::Purpose;
using ::testing::UnorderedElementsAre;

constexpr char kHolder[] = "safe-harbor";
constexpr char kLegalAid[] = "legal-aid";
constexpr char kBayLegal[] = "bay-legal";
constexpr char kLateLegal[] = "late-legal";
constexpr char kPolice[] = "metro-pd";

class SectorConsentTest : public ::testing::Test, public FederationCalls {
 protected:
  SectorConsentTest() : FederationCalls(kHolder) {}

  void SetUp() override {
    federation_ = std::make_unique<TestFederation>(dir_.path());
    set_federation(federation_.get());
    std::string error;
    ASSERT_TRUE(federation_->Create({ExampleMember(kHolder, "VICTIM_SERVICES"),
                                     {kLegalAid, "LEGAL_SERVICES", ""},
                                     {kBayLegal, "LEGAL_SERVICES", ""},
                                     {kLateLegal, "SHELTER", ""},
                                     {kPolice, "LAW_ENFORCEMENT", ""}},
                                    &error))
        << error;
    ASSERT_TRUE(federation_->Start(&error)) << error;
    for (const char* agency :
         {kHolder, kLegalAid, kBayLegal, kLateLegal, kPolice}) {
      Connect(agency);
    }
  }

  // A survivor at the holder with a contact, an immigration and a medical
  // field.
  std::string CreateSurvivor() {
    return CreateSubject(
        {NewField("phone", haven::v1::CONTACT, "555-0100 (after 6pm)"),
         NewField("visa_status", haven::v1::IMMIGRATION,
                  "T-visa application pending"),
         NewField("clinic_visit", haven::v1::MEDICAL, "treated 2026-10-02")});
  }

  // Records a consent at the holder for `grantee` (an agency, or a sector
  // when `sector` is set); returns its id.
  std::string RecordConsent(
      const std::string& subject, const std::string& agency, Purpose purpose,
      const std::vector<Category>& categories,
      haven::v1::Sector sector = haven::v1::SECTOR_UNSPECIFIED) {
    haven::v1::Consent consent =
        NewConsent(subject, agency, purpose, categories, 86400);
    if (sector != haven::v1::SECTOR_UNSPECIFIED) {
      consent.mutable_grantee()->set_sector(sector);
    }
    haven::v1::RecordConsentResponse response;
    grpc::Status status = FederationCalls::RecordConsent(consent, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.receipt().consent().consent_id();
  }

  // Waits (at most 10 s) until `agency` lists exactly one handle from the
  // holder, other than `not_this`; returns it, or "" on timeout.
  std::string WaitForHandle(const std::string& agency,
                            const std::string& not_this = "") {
    std::vector<std::string> handles =
        WaitForHandles(agency, [&](const std::vector<std::string>& h) {
          return h.size() == 1 && h[0] != not_this;
        });
    if (handles.size() == 1 && handles[0] != not_this) return handles[0];
    ADD_FAILURE() << agency << " received no new handle within 10 s";
    return "";
  }

  // Waits (at most 10 s) until `agency` lists no handle from the holder.
  bool WaitForNoHandle(const std::string& agency) {
    return WaitForHandles(
               agency,
               [](const std::vector<std::string>& h) { return h.empty(); })
        .empty();
  }

  // `agency`'s phone number as legal representation gets it; the status
  // of the request otherwise.
  grpc::Status RequestContact(const std::string& agency,
                              const std::string& handle, std::string* phone) {
    haven::v1::RequestDisclosureResponse response;
    grpc::Status status =
        Request(agency, handle, haven::v1::LEGAL_REPRESENTATION,
                {haven::v1::CONTACT, haven::v1::MEDICAL}, &response);
    for (const auto& field : response.fields()) {
      if (field.name() == "phone") *phone = field.value();
      EXPECT_NE(field.name(), "clinic_visit");
    }
    return status;
  }

  // How many HANDLE_ISSUED and HANDLE_WITHDRAWN entries of the holder name
  // `agency`.
  std::pair<int, int> HandleEntries(const std::string& agency) {
    std::pair<int, int> counts{0, 0};
    for (const auto& indexed : Entries(kHolder)) {
      const haven::v1::AuditEntry& entry = indexed.entry();
      const bool names = entry.detail().find(agency) != std::string::npos;
      if (entry.kind() == haven::v1::HANDLE_ISSUED && names) ++counts.first;
      if (entry.kind() == haven::v1::HANDLE_WITHDRAWN && names) {
        ++counts.second;
      }
    }
    return counts;
  }

  // Rewrites `field` of `agency`'s member entry in the shared manifest
  // (bumping its serial); ChangeMemberAndReload then reloads it on the
  // holder only.
  void ChangeMember(const std::string& agency, const std::string& field,
                    const std::string& value) {
    std::string text = federation_->manifest_text();
    const std::string marker = absl::StrCat("agency_id: \"", agency, "\"");
    const size_t at = text.find(marker);
    ASSERT_NE(at, std::string::npos);
    const size_t end = text.find("}", at);
    std::string block = text.substr(at, end - at);
    block = std::regex_replace(block, std::regex(field + ": \\S+"),
                               field + ": " + value);
    text = text.substr(0, at) + block + text.substr(end);
    ++serial_;
    text = std::regex_replace(text, std::regex("serial: \\d+"),
                              absl::StrCat("serial: ", serial_));
    federation_->WriteManifest(text);
  }

  void ChangeMemberAndReload(const std::string& agency,
                             const std::string& field,
                             const std::string& value) {
    ChangeMember(agency, field, value);
    auto admin = haven::v1::AdminService::NewStub(channel(kHolder));
    haven::v1::ReloadManifestResponse reloaded;
    grpc::Status status =
        admin->ReloadManifest(Call(kHolder, "admin").get(),
                              haven::v1::ReloadManifestRequest(), &reloaded);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(reloaded.serial(), serial_);
  }

  grpc::Status Refuse(const std::string& subject, const std::string& agency,
                      haven::v1::Refusal* refusal) {
    haven::v1::RecordRefusalRequest request;
    request.set_subject_id(subject);
    request.set_agency_id(agency);
    auto stub = haven::v1::ConsentService::NewStub(channel(kHolder));
    haven::v1::RecordRefusalResponse response;
    grpc::Status status = stub->RecordRefusal(Call(kHolder, "advocate").get(),
                                              request, &response);
    *refusal = response.refusal();
    return status;
  }

  grpc::Status Lift(const std::string& refusal_id) {
    haven::v1::LiftRefusalRequest request;
    request.set_refusal_id(refusal_id);
    auto stub = haven::v1::ConsentService::NewStub(channel(kHolder));
    haven::v1::LiftRefusalResponse response;
    return stub->LiftRefusal(Call(kHolder, "advocate").get(), request,
                             &response);
  }

  // The details of the notices `agency`'s node has on record.
  std::vector<std::string> NoticesReceived(const std::string& agency) {
    std::vector<std::string> notices;
    for (const auto& indexed : Entries(agency)) {
      if (indexed.entry().kind() == haven::v1::REVOCATION_NOTICE_RECEIVED) {
        notices.push_back(indexed.entry().detail());
      }
    }
    return notices;
  }

  TempDir dir_;
  std::unique_ptr<TestFederation> federation_;
  uint64_t serial_ = 1;
};

TEST_F(SectorConsentTest,
       EveryLegalServicesMemberGetsItsOwnHandleAndLaterJoinersToo) {
  const std::string subject = CreateSurvivor();
  ASSERT_FALSE(RecordConsent(subject, "", haven::v1::LEGAL_REPRESENTATION,
                             {haven::v1::CONTACT, haven::v1::IMMIGRATION},
                             haven::v1::LEGAL_SERVICES)
                   .empty());

  // Each active legal-services member gets a handle of its own.
  const std::string legal_aid = WaitForHandle(kLegalAid);
  const std::string bay_legal = WaitForHandle(kBayLegal);
  ASSERT_FALSE(legal_aid.empty());
  ASSERT_FALSE(bay_legal.empty());
  EXPECT_NE(legal_aid, bay_legal);
  for (const auto& [agency, handle] :
       {std::pair{kLegalAid, legal_aid}, std::pair{kBayLegal, bay_legal}}) {
    std::string phone;
    grpc::Status status = RequestContact(agency, handle, &phone);
    ASSERT_TRUE(status.ok()) << agency << ": " << status.error_message();
    EXPECT_EQ(phone, "555-0100 (after 6pm)") << agency;
  }
  // One agency's handle is no use to another.
  std::string phone;
  EXPECT_EQ(RequestContact(kBayLegal, legal_aid, &phone).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Neither the shelter (not yet legal services) nor the police were
  // issued anything.
  EXPECT_EQ(HandleEntries(kLateLegal), std::make_pair(0, 0));
  EXPECT_EQ(HandleEntries(kPolice), std::make_pair(0, 0));

  // late-legal becomes a legal-services member: the holder issues it a
  // handle as the reload installs the manifest.
  ChangeMemberAndReload(kLateLegal, "sector", "LEGAL_SERVICES");
  EXPECT_EQ(HandleEntries(kLateLegal), std::make_pair(1, 0));
  const std::string late = WaitForHandle(kLateLegal);
  ASSERT_FALSE(late.empty());
  EXPECT_NE(late, legal_aid);
  EXPECT_NE(late, bay_legal);
  phone.clear();
  grpc::Status late_status = RequestContact(kLateLegal, late, &phone);
  ASSERT_TRUE(late_status.ok()) << late_status.error_message();
  EXPECT_EQ(phone, "555-0100 (after 6pm)");

  // The police got nothing, and cannot use another agency's handle.
  EXPECT_THAT(Handles(kPolice), ::testing::IsEmpty());
  EXPECT_EQ(HandleEntries(kPolice), std::make_pair(0, 0));
  for (const std::string& handle : {legal_aid, bay_legal, late}) {
    haven::v1::RequestDisclosureResponse response;
    grpc::Status status = Request(kPolice, handle, haven::v1::INVESTIGATION,
                                  {haven::v1::CONTACT}, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(response.fields_size(), 0);
  }

  // bay-legal is suspended: its handle is withdrawn at once (the notice
  // is dropped, never delivered); the others keep theirs.
  ChangeMemberAndReload(kBayLegal, "status", "MEMBER_SUSPENDED");
  EXPECT_EQ(HandleEntries(kBayLegal), std::make_pair(1, 1));
  // And reinstated: a new handle, delivered now that it is active. The
  // notice withdrawing the old one was dropped, not held for the
  // reinstatement: bay-legal still lists the old handle, which the holder
  // refuses.
  ChangeMemberAndReload(kBayLegal, "status", "MEMBER_ACTIVE");
  EXPECT_EQ(HandleEntries(kBayLegal), std::make_pair(2, 1));
  const std::vector<std::string> listed = WaitForHandles(
      kBayLegal,
      [](const std::vector<std::string>& h) { return h.size() == 2; });
  ASSERT_EQ(listed.size(), 2u);
  const std::string bay_again = listed[0] == bay_legal ? listed[1] : listed[0];
  ASSERT_NE(bay_again, bay_legal);
  phone.clear();
  grpc::Status bay_status = RequestContact(kBayLegal, bay_again, &phone);
  ASSERT_TRUE(bay_status.ok()) << bay_status.error_message();
  EXPECT_EQ(phone, "555-0100 (after 6pm)");
  EXPECT_EQ(RequestContact(kBayLegal, bay_legal, &phone).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // late-legal leaves the sector: its handle is withdrawn and it is told.
  ChangeMemberAndReload(kLateLegal, "sector", "SHELTER");
  EXPECT_EQ(HandleEntries(kLateLegal), std::make_pair(1, 1));
  EXPECT_TRUE(WaitForNoHandle(kLateLegal));
  EXPECT_EQ(RequestContact(kLateLegal, late, &phone).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // legal-aid was never touched.
  EXPECT_EQ(HandleEntries(kLegalAid), std::make_pair(1, 0));
  EXPECT_THAT(Handles(kLegalAid), UnorderedElementsAre(legal_aid));
}

TEST_F(SectorConsentTest, RefusalOfOneAgencyWithdrawsOnlyItsHandle) {
  const std::string subject = CreateSurvivor();
  RecordConsent(subject, kLegalAid, haven::v1::LEGAL_REPRESENTATION,
                {haven::v1::CONTACT});
  RecordConsent(subject, kPolice, haven::v1::INVESTIGATION,
                {haven::v1::CONTACT});
  const std::string legal_aid = WaitForHandle(kLegalAid);
  const std::string police = WaitForHandle(kPolice);
  ASSERT_FALSE(legal_aid.empty());
  ASSERT_FALSE(police.empty());
  haven::v1::RequestDisclosureResponse response;
  grpc::Status status = Request(kPolice, police, haven::v1::INVESTIGATION,
                                {haven::v1::CONTACT}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.fields_size(), 1);

  // The agency must be a member of the federation, and not the holder.
  haven::v1::Refusal refusal;
  for (const std::string& bad :
       {std::string("no-such-agency"), std::string("Metro_PD"),
        std::string(kHolder), std::string(640, 'a')}) {
    grpc::Status refused = Refuse(subject, bad, &refusal);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << bad.substr(0, 20);
    EXPECT_EQ(refused.error_message().find(bad), std::string::npos);
  }

  // "Do not share with metro-pd": its handle is withdrawn, with a notice.
  status = Refuse(subject, kPolice, &refusal);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(refusal.agency_id(), kPolice);
  EXPECT_TRUE(refusal.active());
  EXPECT_EQ(HandleEntries(kPolice), std::make_pair(1, 1));
  EXPECT_TRUE(WaitForNoHandle(kPolice));
  EXPECT_THAT(NoticesReceived(kPolice),
              UnorderedElementsAre("consent refused"));
  response.Clear();
  status = Request(kPolice, police, haven::v1::INVESTIGATION,
                   {haven::v1::CONTACT}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(response.fields_size(), 0);

  // legal-aid keeps its handle and its data, and is told nothing.
  EXPECT_EQ(HandleEntries(kLegalAid), std::make_pair(1, 0));
  EXPECT_THAT(Handles(kLegalAid), UnorderedElementsAre(legal_aid));
  std::string phone;
  status = RequestContact(kLegalAid, legal_aid, &phone);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(phone, "555-0100 (after 6pm)");
  EXPECT_THAT(NoticesReceived(kLegalAid), ::testing::IsEmpty());

  // Lifted: the police consent still covers metro-pd, so it gets a new
  // handle and its data again.
  status = Lift(refusal.refusal_id());
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(HandleEntries(kPolice), std::make_pair(2, 1));
  const std::string police_again = WaitForHandle(kPolice, police);
  ASSERT_FALSE(police_again.empty());
  response.Clear();
  status = Request(kPolice, police_again, haven::v1::INVESTIGATION,
                   {haven::v1::CONTACT}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.fields_size(), 1);
}

// A manifest changed while the holder was down: its first witness round
// after the start (about 2 s) issues the joiner its handle.
TEST_F(SectorConsentTest, MemberThatJoinedWhileTheHolderWasDownGetsItsHandle) {
  const std::string subject = CreateSurvivor();
  ASSERT_FALSE(RecordConsent(subject, "", haven::v1::LEGAL_REPRESENTATION,
                             {haven::v1::CONTACT}, haven::v1::LEGAL_SERVICES)
                   .empty());
  ASSERT_FALSE(WaitForHandle(kLegalAid).empty());
  TestNode& holder = federation_->node(kHolder);
  ASSERT_EQ(holder.Stop(), 0);
  ChangeMember(kLateLegal, "sector", "LEGAL_SERVICES");
  std::string error;
  ASSERT_TRUE(holder.Start(&error)) << error;
  Connect(kHolder);

  const std::string late = WaitForHandle(kLateLegal);
  ASSERT_FALSE(late.empty());
  std::string phone;
  grpc::Status status = RequestContact(kLateLegal, late, &phone);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(phone, "555-0100 (after 6pm)");
  EXPECT_EQ(HandleEntries(kLateLegal), std::make_pair(1, 0));
  EXPECT_EQ(HandleEntries(kPolice), std::make_pair(0, 0));
}

}  // namespace
}  // namespace haven::testing

#include "client/verify/reconcile.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace haven::client {
namespace {

using haven::v1::AuditEntry;
using haven::v1::IndexedEntry;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using Type = ReconcileFinding::Type;

constexpr char kHolder[] = "safe-harbor";
constexpr char kRequester[] = "legal-aid";
constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kT0 = 1'700'000'000 * kSecond;

// The holder's entry for a disclosure of CONTACT (IMMIGRATION withheld),
// as holder.cc writes it.
AuditEntry HolderDisclosure(const std::string& request_id) {
  AuditEntry e;
  e.set_kind(haven::v1::DISCLOSURE);
  e.set_time_unix_nanos(kT0);
  e.set_agency_id(kRequester);
  e.set_subject_pseudonym(std::string(64, 'a'));
  e.set_purpose(haven::v1::LEGAL_REPRESENTATION);
  e.add_asked(haven::v1::CONTACT);
  e.add_asked(haven::v1::IMMIGRATION);
  e.add_given(haven::v1::CONTACT);
  auto* w = e.add_withheld();
  w->set_category(haven::v1::IMMIGRATION);
  w->set_reason(haven::v1::NO_MATCHING_RULE);
  e.set_policy_version("v7");
  e.add_consent_ids("0123456789abcdef0123456789abcdef");
  e.set_request_id(request_id);
  e.set_justification("a justification that must never be echoed");
  return e;
}

// The requester's receipt of that disclosure, as requester.cc writes it.
AuditEntry RequesterReceipt(const std::string& request_id) {
  AuditEntry e = HolderDisclosure(request_id);
  e.set_kind(haven::v1::DISCLOSURE_RECEIVED);
  e.set_agency_id(kHolder);
  e.set_subject_pseudonym(std::string(64, 'b'));
  e.set_time_unix_nanos(kT0 + kSecond / 10);
  e.set_detail("holder audit index 7");
  // Listed in request order, not decision order: sets are compared.
  e.clear_asked();
  e.add_asked(haven::v1::IMMIGRATION);
  e.add_asked(haven::v1::CONTACT);
  return e;
}

IndexedEntry At(uint64_t index, const AuditEntry& e) {
  IndexedEntry out;
  out.set_index(index);
  out.set_leaf(e.SerializeAsString());
  *out.mutable_entry() = e;
  return out;
}

class ReconcileTest : public ::testing::Test {
 protected:
  ReconcileReport Run(const ReconcileOptions& options = {}) {
    return ReconcileExchanges({kHolder, &holder_}, {kRequester, &requester_},
                              options);
  }
  std::vector<IndexedEntry> holder_;
  std::vector<IndexedEntry> requester_;
};

TEST_F(ReconcileTest, AgreeingSidesHaveNoFindings) {
  holder_ = {At(7, HolderDisclosure("r1"))};
  requester_ = {At(3, RequesterReceipt("r1"))};
  ReconcileReport report = Run();
  EXPECT_EQ(report.paired, 1);
  EXPECT_THAT(report.findings, IsEmpty());
}

TEST_F(ReconcileTest, RefusalsInBothFormsPair) {
  // Refused by the holder's policy: the requester received a decision
  // that gives nothing.
  AuditEntry by_policy = HolderDisclosure("r1");
  by_policy.set_kind(haven::v1::REQUEST_REFUSED);
  by_policy.clear_given();
  by_policy.clear_consent_ids();
  AuditEntry received = by_policy;
  received.set_kind(haven::v1::DISCLOSURE_RECEIVED);
  received.set_agency_id(kHolder);
  // Refused before a decision: both sides log REQUEST_REFUSED.
  AuditEntry early;
  early.set_kind(haven::v1::REQUEST_REFUSED);
  early.set_time_unix_nanos(kT0);
  early.set_agency_id(kRequester);
  early.set_purpose(haven::v1::LEGAL_REPRESENTATION);
  early.add_asked(haven::v1::CONTACT);
  early.set_request_id("r2");
  AuditEntry early_receipt = early;
  early_receipt.set_agency_id(kHolder);
  holder_ = {At(1, by_policy), At(2, early)};
  requester_ = {At(5, received), At(6, early_receipt)};
  ReconcileReport report = Run();
  EXPECT_EQ(report.paired, 2);
  EXPECT_THAT(report.findings, IsEmpty());
}

TEST_F(ReconcileTest, DifferentGivenCategoriesAreReported) {
  AuditEntry receipt = RequesterReceipt("r1");
  receipt.add_given(haven::v1::MEDICAL);
  holder_ = {At(7, HolderDisclosure("r1"))};
  requester_ = {At(3, receipt)};
  ReconcileReport report = Run();
  ASSERT_EQ(report.findings.size(), 1u);
  const ReconcileFinding& f = report.findings[0];
  EXPECT_EQ(f.type, Type::kMismatch);
  EXPECT_EQ(f.field, "given");
  EXPECT_EQ(f.request_id, "r1");
  EXPECT_EQ(f.index_a, 7u);
  EXPECT_EQ(f.index_b, 3u);
  EXPECT_EQ(f.value_a, "CONTACT");
  EXPECT_EQ(f.value_b, "CONTACT,MEDICAL");
  const std::string line = DescribeFinding(f, kHolder, kRequester);
  EXPECT_EQ(line,
            "MISMATCH request r1 given: safe-harbor #7 CONTACT; legal-aid #3 "
            "CONTACT,MEDICAL");
}

TEST_F(ReconcileTest, KindsThatDoNotCorrespondAreReported) {
  // The holder says data left; the requester says it received nothing.
  AuditEntry receipt = RequesterReceipt("r1");
  receipt.set_kind(haven::v1::REQUEST_REFUSED);
  holder_ = {At(7, HolderDisclosure("r1"))};
  requester_ = {At(3, receipt)};
  ReconcileReport report = Run();
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].field, "kind");
  EXPECT_EQ(report.findings[0].value_a, "DISCLOSURE");
  EXPECT_EQ(report.findings[0].value_b, "REQUEST_REFUSED");

  // Two disclosures of one request cannot be one exchange either.
  receipt.set_kind(haven::v1::DISCLOSURE);
  requester_ = {At(3, receipt)};
  report = Run();
  EXPECT_EQ(report.paired, 1);
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].field, "kind");
}

TEST_F(ReconcileTest, EachDisagreeingFieldIsItsOwnFinding) {
  AuditEntry receipt = RequesterReceipt("r1");
  receipt.set_purpose(haven::v1::INVESTIGATION);
  receipt.add_asked(haven::v1::MEDICAL);
  receipt.mutable_withheld(0)->set_reason(haven::v1::CONSENT_IS_REVOKED);
  receipt.set_policy_version("v8");
  receipt.clear_consent_ids();
  holder_ = {At(7, HolderDisclosure("r1"))};
  requester_ = {At(3, receipt)};
  ReconcileReport report = Run();
  std::vector<std::string> fields;
  for (const auto& f : report.findings) {
    EXPECT_EQ(f.type, Type::kMismatch);
    fields.push_back(f.field);
  }
  EXPECT_THAT(fields, ElementsAre("purpose", "asked", "withheld",
                                  "policy_version", "consent_ids"));
}

TEST_F(ReconcileTest, TimeSkewBeyondToleranceIsReported) {
  AuditEntry receipt = RequesterReceipt("r1");
  receipt.set_time_unix_nanos(kT0 + 300 * kSecond);  // exactly the tolerance
  holder_ = {At(7, HolderDisclosure("r1"))};
  requester_ = {At(3, receipt)};
  EXPECT_THAT(Run().findings, IsEmpty());

  receipt.set_time_unix_nanos(kT0 + 300 * kSecond + 1);
  requester_ = {At(3, receipt)};
  ReconcileReport report = Run();
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].field, "time");
  EXPECT_EQ(report.findings[0].value_a, "2023-11-14T22:13:20+00:00");
  EXPECT_EQ(report.findings[0].value_b, "2023-11-14T22:18:20.000000001+00:00");

  // Earlier at the requester (its clock behind) counts the same way, and
  // the tolerance is the caller's to state.
  receipt.set_time_unix_nanos(kT0 - 20 * kSecond);
  requester_ = {At(3, receipt)};
  EXPECT_THAT(Run().findings, IsEmpty());
  ReconcileOptions strict;
  strict.tolerance = absl::Seconds(10);
  EXPECT_EQ(Run(strict).findings.size(), 1u);
}

TEST_F(ReconcileTest, UnpairedEntriesOnEachSideAreReported) {
  holder_ = {At(7, HolderDisclosure("only-at-holder")),
             At(8, HolderDisclosure("both"))};
  requester_ = {At(3, RequesterReceipt("both")),
                At(4, RequesterReceipt("only-at-requester"))};
  ReconcileReport report = Run();
  EXPECT_EQ(report.paired, 1);
  ASSERT_EQ(report.findings.size(), 2u);
  const ReconcileFinding& at_holder = report.findings[0];
  EXPECT_EQ(at_holder.type, Type::kUnpaired);
  EXPECT_EQ(at_holder.request_id, "only-at-holder");
  EXPECT_EQ(at_holder.index_a, 7u);
  EXPECT_FALSE(at_holder.index_b.has_value());
  EXPECT_EQ(DescribeFinding(at_holder, kHolder, kRequester),
            "UNPAIRED request only-at-holder: safe-harbor #7 DISCLOSURE has "
            "no entry at legal-aid");
  const ReconcileFinding& at_requester = report.findings[1];
  EXPECT_EQ(at_requester.type, Type::kUnpaired);
  EXPECT_EQ(at_requester.index_b, 4u);
  EXPECT_FALSE(at_requester.index_a.has_value());
  EXPECT_EQ(DescribeFinding(at_requester, kHolder, kRequester),
            "UNPAIRED request only-at-requester: legal-aid #4 "
            "DISCLOSURE_RECEIVED has no entry at safe-harbor");
}

TEST_F(ReconcileTest, DuplicateRequestIdIsReported) {
  holder_ = {At(7, HolderDisclosure("r1")), At(9, HolderDisclosure("r1"))};
  requester_ = {At(3, RequesterReceipt("r1"))};
  ReconcileReport report = Run();
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].type, Type::kDuplicate);
  EXPECT_EQ(DescribeFinding(report.findings[0], kHolder, kRequester),
            "DUPLICATE request r1: on record twice at safe-harbor (#7 and #9)");
}

TEST_F(ReconcileTest, OtherAgenciesKindsAndLeafOnlyEntries) {
  AuditEntry elsewhere = HolderDisclosure("r-police");
  elsewhere.set_agency_id("metro-pd");  // an exchange with a third agency
  AuditEntry local;
  local.set_kind(haven::v1::RECORD_WRITTEN);
  local.set_agency_id(kRequester);
  local.set_request_id("r-local");
  IndexedEntry leaf_only = At(12, RequesterReceipt("r1"));
  leaf_only.clear_entry();  // as a node sends a large entry
  holder_ = {At(5, elsewhere), At(6, local), At(7, HolderDisclosure("r1"))};
  requester_ = {leaf_only};
  ReconcileReport report = Run();
  EXPECT_EQ(report.paired, 1);
  EXPECT_THAT(report.findings, IsEmpty());
}

TEST_F(ReconcileTest, FindingsNeverCarryJustificationOrPseudonym) {
  AuditEntry receipt = RequesterReceipt("r1");
  receipt.set_kind(haven::v1::REQUEST_REFUSED);
  receipt.clear_given();
  receipt.set_time_unix_nanos(kT0 + 3600 * kSecond);
  holder_ = {At(7, HolderDisclosure("r1")), At(8, HolderDisclosure("r2"))};
  requester_ = {At(3, receipt)};
  for (const auto& f : Run().findings) {
    const std::string line = DescribeFinding(f, kHolder, kRequester);
    EXPECT_THAT(line, Not(HasSubstr("justification")));
    EXPECT_THAT(line, Not(HasSubstr("aaaa")));
    EXPECT_THAT(line, Not(HasSubstr("bbbb")));
    EXPECT_THAT(line, Not(HasSubstr("holder audit index")));
  }
}

}  // namespace
}  // namespace haven::client

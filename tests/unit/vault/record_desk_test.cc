#include "server/vault/record_desk.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_log.h"

namespace haven::server::vault {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Not;

class RecordDeskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = haven::testing::TestLog::Create();
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    RecordVault::Options options;
    options.storage = &log_->storage();
    options.master_key = crypto::SecretBytes::CopyFrom(log_->master_key().span());
    auto vault = RecordVault::Create(std::move(options));
    ASSERT_THAT(vault, IsOk());
    vault_ = *std::move(vault);
    desk_ = std::make_unique<RecordDesk>(vault_.get(), &log_->recorder());
  }
  haven::v1::AuditEntry LastEntry() {
    auto entries = log_->log().GetEntries(log_->log().Size() - 1, 1);
    EXPECT_THAT(entries, IsOk());
    return entries.ok() && !entries->empty() ? (*entries)[0].entry()
                                             : haven::v1::AuditEntry();
  }
  google::protobuf::RepeatedPtrField<haven::v1::Field> Phone() {
    google::protobuf::RepeatedPtrField<haven::v1::Field> fields;
    haven::v1::Field* field = fields.Add();
    field->set_name("phone");
    field->set_category(haven::v1::CONTACT);
    field->set_value("555-0100");
    return fields;
  }

  std::unique_ptr<haven::testing::TestLog> log_;
  std::unique_ptr<RecordVault> vault_;
  std::unique_ptr<RecordDesk> desk_;
};

TEST_F(RecordDeskTest, EveryChangeAndReadIsOnTheLogWithItsCategories) {
  auto subject = desk_->CreateSubject("caseworker");
  ASSERT_THAT(subject, IsOk());
  EXPECT_EQ(LastEntry().kind(), haven::v1::RECORD_WRITTEN);
  auto put = desk_->Put("caseworker", *subject, "", Phone());
  ASSERT_THAT(put, IsOk());
  EXPECT_EQ(LastEntry().detail(), "record created, version 1");
  EXPECT_THAT(LastEntry().given(), ElementsAre(haven::v1::CONTACT));

  auto record = desk_->Get("caseworker", *subject, put->record_id);
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(LastEntry().kind(), haven::v1::RECORD_READ);
  EXPECT_EQ(LastEntry().principal(), "caseworker");
  EXPECT_THAT(LastEntry().given(), ElementsAre(haven::v1::CONTACT));

  auto list = desk_->List("auditor", *subject);
  ASSERT_THAT(list, IsOk());
  EXPECT_EQ(LastEntry().detail(), "list, 1 records");
}

TEST_F(RecordDeskTest, ReadThatCannotBeLoggedReturnsNoContent) {
  auto subject = desk_->CreateSubject("caseworker");
  ASSERT_THAT(subject, IsOk());
  auto put = desk_->Put("caseworker", *subject, "", Phone());
  ASSERT_THAT(put, IsOk());
  log_->storage().FailWriteAt(log_->storage().writes());
  EXPECT_THAT(desk_->Get("caseworker", *subject, put->record_id),
              Not(IsOk()));
}

TEST_F(RecordDeskTest, EraseNeedsAReasonAndIsLogged) {
  auto subject = desk_->CreateSubject("caseworker");
  ASSERT_THAT(subject, IsOk());
  const uint64_t size = log_->log().Size();
  EXPECT_THAT(desk_->Erase("admin", *subject, ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(log_->log().Size(), size);
  ASSERT_THAT(desk_->Erase("admin", *subject, "survivor asked"), IsOk());
  EXPECT_EQ(LastEntry().kind(), haven::v1::SUBJECT_ERASED);
  EXPECT_EQ(LastEntry().justification(), "survivor asked");
}

TEST_F(RecordDeskTest, KeyRotationAndRetirementAreLogged) {
  auto rotated = desk_->RotateKek("admin");
  ASSERT_THAT(rotated, IsOk());
  EXPECT_EQ(rotated->active_version, 2u);
  EXPECT_EQ(LastEntry().kind(), haven::v1::KEY_ROTATED);
  EXPECT_EQ(LastEntry().detail(), "rotate kek v1 -> v2");
  ASSERT_THAT(desk_->RetireKek("admin", 1), IsOk());
  EXPECT_EQ(LastEntry().detail(), "retire kek v1");
}

}  // namespace
}  // namespace haven::server::vault

// RecordVault against a real RocksDB in a temp dir: round trips, limits,
// tampering, erasure, wrong keys and key rotation.
#include "server/vault/record_vault.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "haven/v1/common.pb.h"
#include "server/storage/database.h"
#include "server/vault/envelope.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/vault/vault_test_util.h"
#include "tests/testing/fake_clock.h"

namespace haven::server::vault {
namespace {

using ::haven::server::vault::testing::DirectVault;
using ::haven::server::vault::testing::OpenStorage;
using ::haven::server::vault::testing::ScopedTempDir;
using ::haven::server::vault::testing::TestMasterKey;
using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::haven::v1::Field;
using ::testing::HasSubstr;
using ::testing::Not;
using Fields = google::protobuf::RepeatedPtrField<Field>;

Fields MakeFields(std::initializer_list<
                  std::tuple<std::string, haven::v1::Category, std::string>>
                      items) {
  Fields fields;
  for (const auto& [name, category, value] : items) {
    Field* f = fields.Add();
    f->set_name(name);
    f->set_category(category);
    f->set_value(value);
  }
  return fields;
}

// Field name -> value of a record, for comparisons.
std::map<std::string, std::string> Values(const haven::v1::Record& record) {
  std::map<std::string, std::string> out;
  for (const Field& f : record.fields()) out[f.name()] = f.value();
  return out;
}

class RecordVaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    Open(TestMasterKey(1));
    ASSERT_NE(vault_, nullptr);
  }

  RecordVault::Options MakeOptions(crypto::SecretBytes key) {
    RecordVault::Options options;
    options.storage = storage_.get();
    options.master_key = std::move(key);
    options.clock = &clock_;
    return options;
  }

  void Open(crypto::SecretBytes key) {
    vault_.reset();
    db_ = nullptr;
    storage_.reset();
    storage_ = OpenStorage(dir_.path());
    ASSERT_NE(storage_, nullptr);
    db_ = &storage_->database();
    auto vault = DirectVault::Create(MakeOptions(std::move(key)));
    ASSERT_THAT(vault, IsOk());
    vault_ = std::move(vault).value();
  }

  absl::StatusOr<std::unique_ptr<DirectVault>> Reopen(crypto::SecretBytes key) {
    vault_.reset();
    db_ = nullptr;
    storage_.reset();
    storage_ = OpenStorage(dir_.path());
    db_ = &storage_->database();
    return DirectVault::Create(MakeOptions(std::move(key)));
  }

  std::string NewSubject() {
    auto id = vault_->CreateSubject();
    EXPECT_THAT(id, IsOk());
    return id.ok() ? *id : "";
  }

  std::string RawGet(const std::string& key) {
    std::string value;
    EXPECT_TRUE(db_->db()
                    ->Get({}, db_->family(storage::Family::kVault), key, &value)
                    .ok());
    return value;
  }
  void RawPut(const std::string& key, const std::string& value) {
    ASSERT_TRUE(db_->db()
                    ->Put({}, db_->family(storage::Family::kVault), key, value)
                    .ok());
  }

  FakeClock clock_{1700000000};
  ScopedTempDir dir_;
  std::unique_ptr<storage::RocksDbStorage> storage_;
  storage::Database* db_ = nullptr;
  std::unique_ptr<DirectVault> vault_;
};

TEST_F(RecordVaultTest, PutThenGetReturnsSameFields) {
  std::string subject = NewSubject();
  EXPECT_EQ(subject.size(), 32u);
  auto put = vault_->Put(subject, "",
                         MakeFields({{"phone", haven::v1::CONTACT, "555-0100"},
                                     {"visa_status", haven::v1::IMMIGRATION,
                                      std::string("T-visa\0pending", 14)},
                                     {"empty", haven::v1::CASE_NOTES, ""}}));
  ASSERT_THAT(put, IsOk());
  EXPECT_EQ(put->version, 1u);
  EXPECT_EQ(put->record_id.size(), 32u);

  auto record = vault_->Get(subject, put->record_id);
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->subject_id(), subject);
  EXPECT_EQ(record->record_id(), put->record_id);
  EXPECT_EQ(record->version(), 1u);
  EXPECT_EQ(record->updated_unix(), 1700000000);
  ASSERT_EQ(record->fields_size(), 3);
  EXPECT_EQ(record->fields(0).name(), "phone");
  EXPECT_EQ(record->fields(0).category(), haven::v1::CONTACT);
  EXPECT_EQ(record->fields(0).value(), "555-0100");
  EXPECT_EQ(record->fields(1).category(), haven::v1::IMMIGRATION);
  EXPECT_EQ(record->fields(1).value(), std::string("T-visa\0pending", 14));
  EXPECT_EQ(record->fields(2).value(), "");
}

TEST_F(RecordVaultTest, ReplacingARecordBumpsItsVersion) {
  std::string subject = NewSubject();
  auto put =
      vault_->Put(subject, "", MakeFields({{"a", haven::v1::CONTACT, "one"}}));
  ASSERT_THAT(put, IsOk());
  auto again = vault_->Put(subject, put->record_id,
                           MakeFields({{"b", haven::v1::LEGAL, "two"}}));
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->record_id, put->record_id);
  EXPECT_EQ(again->version, 2u);
  auto record = vault_->Get(subject, put->record_id);
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->version(), 2u);
  EXPECT_EQ(Values(*record),
            (std::map<std::string, std::string>{{"b", "two"}}));
}

TEST_F(RecordVaultTest, ListReturnsEveryRecordOfOnlyThatSubject) {
  std::string a = NewSubject();
  std::string b = NewSubject();
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 5; ++i) {
    std::string value = absl::StrCat("note ", i);
    auto put = vault_->Put(
        a, "", MakeFields({{"note", haven::v1::CASE_NOTES, value}}));
    ASSERT_THAT(put, IsOk());
    expected[put->record_id] = value;
  }
  ASSERT_THAT(vault_->Put(b, "", MakeFields({{"x", haven::v1::LEGAL, "b"}})),
              IsOk());
  auto list = vault_->List(a);
  ASSERT_THAT(list, IsOk());
  std::map<std::string, std::string> got;
  for (const auto& r : *list) {
    EXPECT_EQ(r.subject_id(), a);
    got[r.record_id()] = r.fields(0).value();
  }
  EXPECT_EQ(got, expected);
  auto empty_subject = NewSubject();
  auto none = vault_->List(empty_subject);
  ASSERT_THAT(none, IsOk());
  EXPECT_TRUE(none->empty());
}

TEST_F(RecordVaultTest, UnknownSubjectOrRecordIsNotFound) {
  const std::string unknown(32, 'a');
  Fields fields = MakeFields({{"a", haven::v1::CONTACT, "x"}});
  EXPECT_THAT(vault_->Put(unknown, "", fields),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(vault_->Get(unknown, std::string(32, 'b')),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(vault_->List(unknown), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(vault_->Erase(unknown), StatusIs(absl::StatusCode::kNotFound));

  std::string subject = NewSubject();
  EXPECT_THAT(vault_->Get(subject, std::string(32, 'b')),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(vault_->Put(subject, std::string(32, 'b'), fields),
              StatusIs(absl::StatusCode::kNotFound));
  auto list = vault_->List(subject);
  ASSERT_THAT(list, IsOk());
  EXPECT_TRUE(list->empty());
}

TEST_F(RecordVaultTest, MalformedIdsAreInvalidArgument) {
  std::string subject = NewSubject();
  Fields fields = MakeFields({{"a", haven::v1::CONTACT, "x"}});
  for (const std::string& bad :
       {std::string(""), std::string("Jane Doe"), std::string(31, 'a'),
        std::string(32, 'A'), std::string(30, 'a') + "/x"}) {
    EXPECT_THAT(vault_->Put(bad, "", fields),
                StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(vault_->List(bad),
                StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(vault_->Get(subject, bad),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

struct BadFieldsCase {
  std::string name;
  std::function<Fields()> make;
};

class RecordVaultLimitsTest
    : public RecordVaultTest,
      public ::testing::WithParamInterface<BadFieldsCase> {};

TEST_P(RecordVaultLimitsTest, RefusedWithInvalidArgumentAndNothingWritten) {
  std::string subject = NewSubject();
  auto existing = vault_->Put(
      subject, "", MakeFields({{"keep", haven::v1::CONTACT, "original"}}));
  ASSERT_THAT(existing, IsOk());
  Fields bad = GetParam().make();

  EXPECT_THAT(vault_->Put(subject, "", bad),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(vault_->Put(subject, existing->record_id, bad),
              StatusIs(absl::StatusCode::kInvalidArgument));

  auto list = vault_->List(subject);
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].version(), 1u);
  EXPECT_EQ(Values((*list)[0]),
            (std::map<std::string, std::string>{{"keep", "original"}}));
}

INSTANTIATE_TEST_SUITE_P(
    Limits, RecordVaultLimitsTest,
    ::testing::Values(
        BadFieldsCase{"OversizedValue",
                      [] {
                        return MakeFields(
                            {{"notes", haven::v1::CASE_NOTES,
                              std::string(kMaxFieldValueBytes + 1, 'x')}});
                      }},
        BadFieldsCase{"NoFields", [] { return Fields(); }},
        BadFieldsCase{"TooManyFields",
                      [] {
                        Fields f;
                        for (size_t i = 0; i <= kMaxFieldsPerRecord; ++i) {
                          Field* x = f.Add();
                          x->set_name(absl::StrCat("f", i));
                          x->set_category(haven::v1::CASE_NOTES);
                        }
                        return f;
                      }},
        BadFieldsCase{"UpperCaseName",
                      [] {
                        return MakeFields({{"Phone", haven::v1::CONTACT, "x"}});
                      }},
        BadFieldsCase{"EmptyName",
                      [] {
                        return MakeFields({{"", haven::v1::CONTACT, "x"}});
                      }},
        BadFieldsCase{
            "NameWithSpace",
            [] {
              return MakeFields({{"jane doe", haven::v1::CONTACT, "x"}});
            }},
        BadFieldsCase{"NameTooLong",
                      [] {
                        return MakeFields(
                            {{std::string(65, 'a'), haven::v1::CONTACT, "x"}});
                      }},
        BadFieldsCase{"DuplicateName",
                      [] {
                        return MakeFields({{"a", haven::v1::CONTACT, "x"},
                                           {"a", haven::v1::LEGAL, "y"}});
                      }},
        BadFieldsCase{
            "UnspecifiedCategory",
            [] {
              return MakeFields({{"a", haven::v1::CATEGORY_UNSPECIFIED, "x"}});
            }},
        BadFieldsCase{"UnknownCategory",
                      [] {
                        return MakeFields(
                            {{"a", static_cast<haven::v1::Category>(99), "x"}});
                      }},
        BadFieldsCase{"OneBadFieldAfterGoodOnes",
                      [] {
                        return MakeFields(
                            {{"a", haven::v1::CONTACT, "x"},
                             {"b", haven::v1::CONTACT,
                              std::string(kMaxFieldValueBytes + 1, 'y')}});
                      }}),
    [](const auto& info) { return info.param.name; });

TEST_F(RecordVaultTest, ValuesExactlyAtTheLimitsAreAccepted) {
  std::string subject = NewSubject();
  Fields fields;
  for (size_t i = 0; i < kMaxFieldsPerRecord; ++i) {
    Field* f = fields.Add();
    f->set_name(i == 0 ? std::string(kMaxFieldNameBytes, 'n')
                       : absl::StrCat("f_", i));
    f->set_category(haven::v1::CASE_NOTES);
    f->set_value(std::string(i == 0 ? kMaxFieldValueBytes : 1, 'v'));
  }
  auto put = vault_->Put(subject, "", fields);
  ASSERT_THAT(put, IsOk());
  auto record = vault_->Get(subject, put->record_id);
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->fields_size(), static_cast<int>(kMaxFieldsPerRecord));
  EXPECT_EQ(record->fields(0).value().size(), kMaxFieldValueBytes);
}

TEST_F(RecordVaultTest, RecordsPerSubjectLimitHoldsAcrossRestart) {
  std::string subject = NewSubject();
  Fields fields = MakeFields({{"a", haven::v1::CONTACT, "x"}});
  for (size_t i = 0; i < kMaxRecordsPerSubject; ++i) {
    ASSERT_THAT(vault_->Put(subject, "", fields), IsOk()) << i;
  }
  auto over = vault_->Put(subject, "", fields);
  EXPECT_THAT(over, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(over.status().message(), HasSubstr("1000"));

  auto reopened = Reopen(TestMasterKey(1));
  ASSERT_THAT(reopened, IsOk());
  vault_ = std::move(reopened).value();
  EXPECT_THAT(vault_->Put(subject, "", fields),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto list = vault_->List(subject);
  ASSERT_THAT(list, IsOk());
  EXPECT_EQ(list->size(), kMaxRecordsPerSubject);
  // Replacing an existing record is still allowed.
  EXPECT_THAT(vault_->Put(subject, (*list)[0].record_id(), fields), IsOk());
}

TEST_F(RecordVaultTest, SwappedCiphertextsFailAuthenticationNotCrossRead) {
  std::string subject = NewSubject();
  auto a = vault_->Put(subject, "",
                       MakeFields({{"note", haven::v1::CASE_NOTES, "alpha"}}));
  auto b = vault_->Put(subject, "",
                       MakeFields({{"note", haven::v1::CASE_NOTES, "bravo"}}));
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  std::string key_a = RecordKey(subject, a->record_id);
  std::string key_b = RecordKey(subject, b->record_id);
  std::string raw_a = RawGet(key_a);
  std::string raw_b = RawGet(key_b);
  RawPut(key_a, raw_b);
  RawPut(key_b, raw_a);

  for (const auto& id : {a->record_id, b->record_id}) {
    auto got = vault_->Get(subject, id);
    ASSERT_THAT(got, StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(got.status().message(),
                HasSubstr("failed authentication (stored data altered or "
                          "corrupt)"));
    // The message may travel further than the caller: no ids in it.
    EXPECT_THAT(got.status().message(), Not(HasSubstr(id)));
    EXPECT_THAT(got.status().message(), Not(HasSubstr(subject)));
    EXPECT_THAT(got.status().message(), Not(HasSubstr("alpha")));
    EXPECT_THAT(got.status().message(), Not(HasSubstr("bravo")));
  }
  EXPECT_THAT(vault_->List(subject), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(RecordVaultTest, CiphertextMovedToAnotherSubjectFailsAuthentication) {
  std::string s1 = NewSubject();
  std::string s2 = NewSubject();
  auto r1 = vault_->Put(s1, "", MakeFields({{"n", haven::v1::LEGAL, "one"}}));
  auto r2 = vault_->Put(s2, "", MakeFields({{"n", haven::v1::LEGAL, "two"}}));
  ASSERT_THAT(r1, IsOk());
  ASSERT_THAT(r2, IsOk());
  // Same record id under the other subject: only the subject differs.
  RawPut(RecordKey(s2, r1->record_id), RawGet(RecordKey(s1, r1->record_id)));
  EXPECT_THAT(vault_->Get(s2, r1->record_id),
              StatusIs(absl::StatusCode::kDataLoss));
  // An older version of the same record replayed over the newer one.
  std::string v1 = RawGet(RecordKey(s1, r1->record_id));
  ASSERT_THAT(vault_->Put(s1, r1->record_id,
                          MakeFields({{"n", haven::v1::LEGAL, "one-b"}})),
              IsOk());
  RawPut(RecordKey(s1, r1->record_id), v1);
  auto replayed = vault_->Get(s1, r1->record_id);
  // A whole old envelope is self-consistent; it authenticates as version 1,
  // never as version 2 content.
  if (replayed.ok()) {
    EXPECT_EQ(replayed->version(), 1u);
  }
}

TEST_F(RecordVaultTest, FieldsSwappedWithinARecordFailAuthentication) {
  std::string subject = NewSubject();
  auto put = vault_->Put(subject, "",
                         MakeFields({{"aa", haven::v1::CONTACT, "xxxx"},
                                     {"bb", haven::v1::CONTACT, "yyyy"}}));
  ASSERT_THAT(put, IsOk());
  std::string key = RecordKey(subject, put->record_id);
  const std::string raw = RawGet(key);
  auto envelope = DecodeRecordEnvelope(raw);
  ASSERT_TRUE(envelope.has_value());
  ASSERT_EQ(envelope->sealed_fields.size(), 2u);
  std::swap(envelope->sealed_fields[0], envelope->sealed_fields[1]);
  RawPut(key, EncodeRecordEnvelope(*envelope));
  EXPECT_THAT(vault_->Get(subject, put->record_id),
              StatusIs(absl::StatusCode::kDataLoss));
  // Dropping a field is caught too.
  envelope->sealed_fields.pop_back();
  RawPut(key, EncodeRecordEnvelope(*envelope));
  EXPECT_THAT(vault_->Get(subject, put->record_id),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(RecordVaultTest, AnyFlippedByteGivesDataLoss) {
  std::string subject = NewSubject();
  auto put = vault_->Put(subject, "",
                         MakeFields({{"a", haven::v1::CONTACT, "content-1"},
                                     {"b", haven::v1::MEDICAL, "content-2"}}));
  ASSERT_THAT(put, IsOk());
  std::string key = RecordKey(subject, put->record_id);
  const std::string original = RawGet(key);
  for (size_t i = 0; i < original.size(); ++i) {
    std::string flipped = original;
    flipped[i] ^= 0x20;
    RawPut(key, flipped);
    auto got = vault_->Get(subject, put->record_id);
    ASSERT_THAT(got, StatusIs(absl::StatusCode::kDataLoss)) << "byte " << i;
    EXPECT_THAT(got.status().message(), Not(HasSubstr("content")));
  }
  RawPut(key, original.substr(0, original.size() - 1));
  EXPECT_THAT(vault_->Get(subject, put->record_id),
              StatusIs(absl::StatusCode::kDataLoss));
  RawPut(key, original);
  EXPECT_THAT(vault_->Get(subject, put->record_id), IsOk());
}

TEST_F(RecordVaultTest, DamagedWrappedDataKeyGivesDataLoss) {
  std::string subject = NewSubject();
  auto put =
      vault_->Put(subject, "", MakeFields({{"a", haven::v1::CONTACT, "x"}}));
  ASSERT_THAT(put, IsOk());
  std::string wrapped = RawGet(DataKeyKey(subject));
  wrapped[wrapped.size() - 3] ^= 0x01;
  RawPut(DataKeyKey(subject), wrapped);
  auto reopened = Reopen(TestMasterKey(1));  // drop the cached data key
  ASSERT_THAT(reopened, IsOk());
  vault_ = std::move(reopened).value();
  auto got = vault_->Get(subject, put->record_id);
  ASSERT_THAT(got, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(got.status().message(), HasSubstr("data key failed"));
  EXPECT_THAT(got.status().message(), Not(HasSubstr(subject)));
}

TEST_F(RecordVaultTest, EraseMakesSubjectNotFoundAtOnce) {
  std::string subject = NewSubject();
  std::string other = NewSubject();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto put = vault_->Put(subject, "",
                           MakeFields({{"a", haven::v1::CONTACT, "gone"}}));
    ASSERT_THAT(put, IsOk());
    ids.push_back(put->record_id);
  }
  auto kept =
      vault_->Put(other, "", MakeFields({{"a", haven::v1::CONTACT, "kept"}}));
  ASSERT_THAT(kept, IsOk());

  auto erased = vault_->Erase(subject);
  ASSERT_THAT(erased, IsOk());
  EXPECT_EQ(*erased, 3u);
  for (const auto& id : ids) {
    EXPECT_THAT(vault_->Get(subject, id),
                StatusIs(absl::StatusCode::kNotFound));
  }
  EXPECT_THAT(vault_->List(subject), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(vault_->Put(subject, "",
                          MakeFields({{"a", haven::v1::CONTACT, "again"}})),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(vault_->Erase(subject), StatusIs(absl::StatusCode::kNotFound));

  auto other_record = vault_->Get(other, kept->record_id);
  ASSERT_THAT(other_record, IsOk());
  EXPECT_EQ(other_record->fields(0).value(), "kept");

  auto reopened = Reopen(TestMasterKey(1));
  ASSERT_THAT(reopened, IsOk());
  vault_ = std::move(reopened).value();
  EXPECT_THAT(vault_->List(subject), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(vault_->Get(other, kept->record_id), IsOk());
}

// (The node adds the data dir and key file to this message at start.)
TEST_F(RecordVaultTest, WrongMasterKeyIsRefused) {
  std::string subject = NewSubject();
  ASSERT_THAT(
      vault_->Put(subject, "", MakeFields({{"a", haven::v1::CONTACT, "x"}})),
      IsOk());
  auto wrong = Reopen(TestMasterKey(2));
  ASSERT_THAT(wrong, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(wrong.status().message(),
              HasSubstr("master key does not match this data dir"));

  auto right = Reopen(TestMasterKey(1));
  ASSERT_THAT(right, IsOk());
  vault_ = std::move(right).value();
  auto list = vault_->List(subject);
  ASSERT_THAT(list, IsOk());
  EXPECT_EQ(list->size(), 1u);
}

TEST_F(RecordVaultTest, DamagedKeyCheckValueIsDataLossNotWrongKey) {
  vault_.reset();
  std::string kcv;
  auto* meta = db_->family(storage::Family::kMeta);
  ASSERT_TRUE(db_->db()->Get({}, meta, "vault/kcv", &kcv).ok());
  kcv[7] ^= 0x01;
  ASSERT_TRUE(db_->db()->Put({}, meta, "vault/kcv", kcv).ok());
  auto reopened = Reopen(TestMasterKey(1));
  ASSERT_THAT(reopened, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(reopened.status().message(), HasSubstr("corrupt"));
}

TEST_F(RecordVaultTest, VaultDataWithoutKeyMetadataIsDataLoss) {
  NewSubject();
  vault_.reset();
  auto* meta = db_->family(storage::Family::kMeta);
  ASSERT_TRUE(db_->db()->Delete({}, meta, "vault/kcv").ok());
  ASSERT_TRUE(db_->db()->Delete({}, meta, "vault/keks").ok());
  EXPECT_THAT(Reopen(TestMasterKey(1)), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(RecordVaultTest, RotateWhileReadingAndWritingThenRetireOldVersion) {
  constexpr int kSubjects = 12;
  constexpr int kWriters = 2;
  std::vector<std::string> subjects;
  // subject -> record id -> expected value of field "v"
  std::vector<std::map<std::string, std::string>> expected(kSubjects);
  for (int s = 0; s < kSubjects; ++s) {
    subjects.push_back(NewSubject());
    for (int r = 0; r < 3; ++r) {
      std::string value = absl::StrCat("s", s, "r", r);
      auto put = vault_->Put(subjects[s], "",
                             MakeFields({{"v", haven::v1::CASE_NOTES, value}}));
      ASSERT_THAT(put, IsOk());
      expected[s][put->record_id] = value;
    }
  }
  ASSERT_EQ(vault_->kek_status().active_version, 1u);

  // Writers own disjoint subjects; a reader checks records nobody rewrites.
  std::atomic<bool> rotated{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 2000 && (i < 50 || !rotated.load()); ++i) {
        int s = w + kWriters * (i % (kSubjects / kWriters / 2));
        std::string value = absl::StrCat("w", w, "i", i);
        const std::string* record_id = nullptr;
        if (i % 3 != 0 && !expected[s].empty()) {
          record_id = &expected[s].begin()->first;
        }
        auto put =
            vault_->Put(subjects[s], record_id ? *record_id : "",
                        MakeFields({{"v", haven::v1::CASE_NOTES, value}}));
        if (!put.ok()) {
          ++failures;
          continue;
        }
        expected[s][put->record_id] = value;
        // New subjects created during rotation must be re-wrapped too.
        if (i % 25 == 0) {
          if (!vault_->CreateSubject().ok()) ++failures;
        }
      }
    });
  }
  // Subjects with index >= kSubjects / 2 are never written; read them.
  std::vector<std::map<std::string, std::string>> stable(
      expected.begin() + kSubjects / 2, expected.end());
  threads.emplace_back([&] {
    for (int i = 0; i < 5000 && (i < 50 || !rotated.load()); ++i) {
      int k = i % (kSubjects / 2);
      const std::string& subject = subjects[kSubjects / 2 + k];
      for (const auto& [id, value] : stable[k]) {
        auto got = vault_->Get(subject, id);
        if (!got.ok() || got->fields(0).value() != value) ++failures;
      }
    }
  });

  auto first = vault_->RotateKek();
  auto second = vault_->RotateKek();
  rotated = true;
  for (auto& t : threads) t.join();
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  EXPECT_GE(*first, static_cast<uint64_t>(kSubjects));
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(vault_->kek_status().active_version, 3u);

  auto reopened = Reopen(TestMasterKey(1));
  ASSERT_THAT(reopened, IsOk());
  vault_ = std::move(reopened).value();
  for (int s = 0; s < kSubjects; ++s) {
    auto list = vault_->List(subjects[s]);
    ASSERT_THAT(list, IsOk());
    std::map<std::string, std::string> got;
    for (const auto& r : *list) got[r.record_id()] = r.fields(0).value();
    EXPECT_EQ(got, expected[s]) << "subject " << s;
  }
  EXPECT_THAT(vault_->RetireKek(1), IsOk());
  EXPECT_THAT(vault_->RetireKek(2), IsOk());
  RecordVault::KekStatus status = vault_->kek_status();
  EXPECT_EQ(status.active_version, 3u);
  EXPECT_EQ(status.live_versions, std::vector<uint32_t>{3});
  EXPECT_EQ(status.retired_versions, (std::vector<uint32_t>{1, 2}));

  // Retirement persists, and everything still reads.
  reopened = Reopen(TestMasterKey(1));
  ASSERT_THAT(reopened, IsOk());
  vault_ = std::move(reopened).value();
  EXPECT_EQ(vault_->kek_status().retired_versions,
            (std::vector<uint32_t>{1, 2}));
  for (int s = 0; s < kSubjects; ++s) {
    auto list = vault_->List(subjects[s]);
    ASSERT_THAT(list, IsOk());
    EXPECT_EQ(list->size(), expected[s].size());
  }
}

TEST_F(RecordVaultTest, RetireRefusedWhileInUseOrActive) {
  std::string subject = NewSubject();
  auto put =
      vault_->Put(subject, "", MakeFields({{"a", haven::v1::CONTACT, "x"}}));
  ASSERT_THAT(put, IsOk());
  auto active = vault_->RetireKek(1);
  EXPECT_THAT(active, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(active.message(), HasSubstr("active"));
  EXPECT_THAT(vault_->RetireKek(7), StatusIs(absl::StatusCode::kNotFound));

  // A data key still wrapped under version 1 (as after an interrupted
  // rotation) blocks retiring it.
  std::string wrapped_v1 = RawGet(DataKeyKey(subject));
  auto rotated = vault_->RotateKek();
  ASSERT_THAT(rotated, IsOk());
  EXPECT_EQ(*rotated, 1u);
  RawPut(DataKeyKey(subject), wrapped_v1);
  auto in_use = vault_->RetireKek(1);
  EXPECT_THAT(in_use, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(in_use.message(), HasSubstr("still wrapped"));

  ASSERT_THAT(vault_->RotateKek(), IsOk());
  EXPECT_THAT(vault_->RetireKek(1), IsOk());
  EXPECT_THAT(vault_->RetireKek(1), IsOk());  // idempotent
  EXPECT_THAT(vault_->Get(subject, put->record_id), IsOk());
}

TEST_F(RecordVaultTest, KeyWrappedUnderRetiredVersionCannotBeUnwrapped) {
  std::string subject = NewSubject();
  auto put =
      vault_->Put(subject, "", MakeFields({{"a", haven::v1::CONTACT, "x"}}));
  ASSERT_THAT(put, IsOk());
  // A copy of the wrapped key as a backup taken now would hold it.
  std::string backup_copy = RawGet(DataKeyKey(subject));
  ASSERT_THAT(vault_->RotateKek(), IsOk());
  ASSERT_THAT(vault_->RetireKek(1), IsOk());
  // Restore the old copy, as restoring that backup would.
  RawPut(DataKeyKey(subject), backup_copy);
  auto reopened = Reopen(TestMasterKey(1));
  ASSERT_THAT(reopened, IsOk());
  vault_ = std::move(reopened).value();
  auto got = vault_->Get(subject, put->record_id);
  ASSERT_THAT(got, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(got.status().message(), HasSubstr("version 1 is retired"));
}

}  // namespace
}  // namespace haven::server::vault

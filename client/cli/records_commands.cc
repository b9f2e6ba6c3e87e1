// havenctl records …: the agency's own records (caseworker role).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/cli/commands.h"
#include "client/cli/rpc.h"
#include "haven/v1/records.grpc.pb.h"

namespace haven::client::cli {
namespace {

using haven::v1::RecordService;

// --field NAME:CATEGORY=VALUE, e.g. --field phone:CONTACT=555-0100
absl::Status ParseField(const std::string& spec, haven::v1::Field* field) {
  size_t colon = spec.find(':');
  size_t eq = spec.find('=');
  if (colon == std::string::npos || eq == std::string::npos || eq < colon) {
    return absl::InvalidArgumentError(
        "--field expects NAME:CATEGORY=VALUE, e.g. phone:CONTACT=555-0100");
  }
  haven::v1::Category category;
  std::string category_name = spec.substr(colon + 1, eq - colon - 1);
  if (!haven::v1::Category_Parse(category_name, &category)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown category '", category_name, "' in --field (e.g. CONTACT, ",
        "IDENTITY, IMMIGRATION, MEDICAL)"));
  }
  field->set_name(spec.substr(0, colon));
  field->set_category(category);
  field->set_value(spec.substr(eq + 1));
  return absl::OkStatus();
}

void PrintRecord(const haven::v1::Record& record) {
  std::printf("record %s (version %llu)\n", record.record_id().c_str(),
              static_cast<unsigned long long>(record.version()));
  for (const auto& field : record.fields()) {
    std::printf("  %-20s %-16s %s\n", field.name().c_str(),
                haven::v1::Category_Name(field.category()).c_str(),
                field.value().c_str());
  }
}

int Require(const Invocation& in, const std::string& flag) {
  if (in.args.GetOr(flag, "").empty()) {
    std::fprintf(stderr, "havenctl: --%s is required\n", flag.c_str());
    return kExitUsage;
  }
  return kExitOk;
}

int CreateSubject(const Invocation& in) {
  haven::v1::CreateSubjectResponse response;
  absl::Status s =
      CallUnary<RecordService>(in, &RecordService::Stub::CreateSubject,
                               haven::v1::CreateSubjectRequest(), &response);
  if (!s.ok()) return Report(s);
  std::puts(in.json ? ToJson(response).c_str() : response.subject_id().c_str());
  return kExitOk;
}

int Put(const Invocation& in) {
  if (int rc = Require(in, "subject")) return rc;
  haven::v1::PutRecordRequest request;
  request.set_subject_id(in.args.GetOr("subject", ""));
  request.set_record_id(in.args.GetOr("record", ""));
  for (const std::string& spec : in.args.GetAll("field")) {
    if (absl::Status s = ParseField(spec, request.add_fields()); !s.ok()) {
      std::fprintf(stderr, "havenctl: %s\n", std::string(s.message()).c_str());
      return kExitUsage;
    }
  }
  haven::v1::PutRecordResponse response;
  absl::Status s = CallUnary<RecordService>(in, &RecordService::Stub::PutRecord,
                                            request, &response);
  if (!s.ok()) return Report(s);
  if (in.json) {
    std::puts(ToJson(response).c_str());
  } else {
    std::printf("record %s version %llu\n", response.record_id().c_str(),
                static_cast<unsigned long long>(response.version()));
  }
  return kExitOk;
}

int Get(const Invocation& in) {
  if (int rc = Require(in, "subject")) return rc;
  if (int rc = Require(in, "record")) return rc;
  haven::v1::GetRecordRequest request;
  request.set_subject_id(in.args.GetOr("subject", ""));
  request.set_record_id(in.args.GetOr("record", ""));
  haven::v1::GetRecordResponse response;
  absl::Status s = CallUnary<RecordService>(in, &RecordService::Stub::GetRecord,
                                            request, &response);
  if (!s.ok()) return Report(s);
  if (in.json) {
    std::puts(ToJson(response).c_str());
  } else {
    PrintRecord(response.record());
  }
  return kExitOk;
}

int List(const Invocation& in) {
  if (int rc = Require(in, "subject")) return rc;
  haven::v1::ListRecordsRequest request;
  request.set_subject_id(in.args.GetOr("subject", ""));
  haven::v1::ListRecordsResponse response;
  absl::Status s = CallUnary<RecordService>(
      in, &RecordService::Stub::ListRecords, request, &response);
  if (!s.ok()) return Report(s);
  if (in.json) {
    std::puts(ToJson(response).c_str());
  } else {
    for (const auto& record : response.records()) PrintRecord(record);
  }
  return kExitOk;
}

int Erase(const Invocation& in) {
  if (int rc = Require(in, "subject")) return rc;
  if (int rc = Require(in, "reason")) return rc;
  haven::v1::EraseSubjectRequest request;
  request.set_subject_id(in.args.GetOr("subject", ""));
  request.set_reason(in.args.GetOr("reason", ""));
  haven::v1::EraseSubjectResponse response;
  absl::Status s = CallUnary<RecordService>(
      in, &RecordService::Stub::EraseSubject, request, &response);
  if (!s.ok()) return Report(s);
  if (in.json) {
    std::puts(ToJson(response).c_str());
  } else {
    std::printf("erased: %llu records are unreadable from now on\n",
                static_cast<unsigned long long>(response.records_erased()));
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> RecordsCommands() {
  return {
      {"records",
       "create-subject",
       "make a new subject (opaque random id)",
       "havenctl records create-subject",
       {},
       CreateSubject},
      {"records",
       "put",
       "store a record for a subject",
       "havenctl records put --subject ID [--record ID] "
       "--field NAME:CATEGORY=VALUE [--field ...]\n"
       "  Without --record a new record is made; with it, the record is "
       "replaced.",
       {"subject", "record", "field"},
       Put},
      {"records",
       "get",
       "read one record",
       "havenctl records get --subject ID --record ID",
       {"subject", "record"},
       Get},
      {"records",
       "list",
       "read every record of a subject",
       "havenctl records list --subject ID",
       {"subject"},
       List},
      {"records",
       "erase",
       "crypto-shred a subject and all its records",
       "havenctl records erase --subject ID --reason TEXT\n"
       "  The reason goes to the audit log: no personal data.",
       {"subject", "reason"},
       Erase},
  };
}

}  // namespace haven::client::cli

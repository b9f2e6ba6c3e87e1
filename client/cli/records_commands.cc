// havenctl records …: the agency's own records (caseworker role).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/cli/commands.h"
#include "client/cli/decision_output.h"
#include "client/cli/node_call.h"

namespace haven::client::cli {
namespace {

namespace v1 = ::haven::v1;

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

int CreateSubject(const Invocation& in) {
  v1::CreateSubjectRequest request;
  request.set_case_reference(in.args.GetOr("case-reference", ""));
  return CallAndPrint(in, &NodeClient::CreateSubject, request,
                      [](const v1::CreateSubjectResponse& response) {
                        std::puts(response.subject_id().c_str());
                      });
}

int FindSubject(const Invocation& in) {
  return CallWithFlags(in, &NodeClient::FindSubject,
                       {{"case-reference", "case_reference"}},
                       [](const v1::FindSubjectResponse& response) {
                         std::puts(response.subject_id().c_str());
                       });
}

int Put(const Invocation& in) {
  if (int rc = RequireFlags(in.args, {"subject"})) return rc;
  v1::PutRecordRequest request;
  request.set_subject_id(in.args.GetOr("subject", ""));
  request.set_record_id(in.args.GetOr("record", ""));
  for (const std::string& spec : in.args.GetAll("field")) {
    if (absl::Status s = ParseField(spec, request.add_fields()); !s.ok()) {
      return UsageError(std::string(s.message()));
    }
  }
  return CallAndPrint(
      in, &NodeClient::PutRecord, request,
      [](const v1::PutRecordResponse& response) {
        std::printf("record %s version %llu\n", response.record_id().c_str(),
                    static_cast<unsigned long long>(response.version()));
      });
}

int Get(const Invocation& in) {
  return CallWithFlags(in, &NodeClient::GetRecord,
                       {{"subject", "subject_id"}, {"record", "record_id"}},
                       [](const v1::GetRecordResponse& response) {
                         PrintRecord(response.record());
                       });
}

int List(const Invocation& in) {
  return CallWithFlags(in, &NodeClient::ListRecords,
                       {{"subject", "subject_id"}},
                       [](const v1::ListRecordsResponse& response) {
                         for (const auto& record : response.records()) {
                           PrintRecord(record);
                         }
                       });
}

int Erase(const Invocation& in) {
  return CallWithFlags(
      in, &NodeClient::EraseSubject,
      {{"subject", "subject_id"}, {"reason", "reason"}},
      [](const v1::EraseSubjectResponse& response) {
        std::printf("erased: %llu records are unreadable from now on\n",
                    static_cast<unsigned long long>(response.records_erased()));
      });
}

}  // namespace

std::vector<Command> RecordsCommands() {
  return {
      {"records",
       "create-subject",
       "make a new subject (opaque random id)",
       "havenctl records create-subject [--case-reference REF]\n"
       "  REF: the agency's own case reference (printable ASCII, at most 64\n"
       "  characters, unique in the node), kept only as a keyed hash so the\n"
       "  subject can be found by it (records find-subject).",
       {"case-reference"},
       CreateSubject},
      {"records",
       "find-subject",
       "find a subject's id by its case reference",
       "havenctl records find-subject --case-reference REF\n"
       "  Caseworker or advocate role. The lookup is logged.",
       {"case-reference"},
       FindSubject},
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

// Every input bounded before anything is stored or logged, end to end: two
// real havend processes (safe-harbor holds a survivor's records, legal-aid
// holds a handle to them), and every request of every local and peer RPC,
// found by walking the generated descriptors, sent with each of its string
// and bytes fields (nested ones included, and those of the DisclosureRequest
// a peer's batch carries) at ten times its documented limit. Each is
// refused, neither node's log or state changes (the holder's one bounded
// record of a refused peer request aside), and `havenctl audit verify`
// still passes on both.
//
// The limit table below names every such field with its haven::limits
// constant, so a field added without a limit fails this test until it has
// one (and is enforced).
#include "haven/base/limits.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "client/verify/signed_batch.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "haven/v1/admin.grpc.pb.h"
#include "haven/v1/audit.grpc.pb.h"
#include "haven/v1/consent.grpc.pb.h"
#include "haven/v1/exchange.grpc.pb.h"
#include "haven/v1/records.grpc.pb.h"
#include "server/crypto/ed25519_signer.h"
#include "server/exchange/signing.h"
#include "tests/testing/federation_calls.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_federation.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::FileDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::MethodDescriptor;
using ::google::protobuf::Reflection;
using ::google::protobuf::ServiceDescriptor;

constexpr char kHolder[] = "safe-harbor";
constexpr char kGrantee[] = "legal-aid";

// Each string and bytes field a caller or peer can send, by full name, with
// the limit its proto comment names.
const std::map<std::string, size_t>& Limits() {
  static const auto* const limits = new std::map<std::string, size_t>{
      // records.proto
      {"haven.v1.Field.name", limits::kMaxFieldNameBytes},
      {"haven.v1.Field.value", limits::kMaxFieldValueBytes},
      {"haven.v1.PutRecordRequest.subject_id", limits::kNodeIdChars},
      {"haven.v1.PutRecordRequest.record_id", limits::kNodeIdChars},
      {"haven.v1.GetRecordRequest.subject_id", limits::kNodeIdChars},
      {"haven.v1.GetRecordRequest.record_id", limits::kNodeIdChars},
      {"haven.v1.ListRecordsRequest.subject_id", limits::kNodeIdChars},
      {"haven.v1.EraseSubjectRequest.subject_id", limits::kNodeIdChars},
      {"haven.v1.EraseSubjectRequest.reason", limits::kMaxReasonBytes},
      {"haven.v1.CreateSubjectRequest.case_reference",
       limits::kMaxCaseReferenceBytes},
      {"haven.v1.FindSubjectRequest.case_reference",
       limits::kMaxCaseReferenceBytes},
      // consent.proto
      {"haven.v1.Consent.consent_id", limits::kNodeIdChars},
      {"haven.v1.Consent.subject_id", limits::kNodeIdChars},
      {"haven.v1.Grantee.agency_id", limits::kMaxAgencyIdBytes},
      {"haven.v1.Consent.recorded_by", limits::kMaxPrincipalBytes},
      {"haven.v1.Consent.evidence_sha256", limits::kSha256Bytes},
      {"haven.v1.Consent.status_reason", limits::kMaxReasonBytes},
      {"haven.v1.AmendConsentRequest.consent_id", limits::kNodeIdChars},
      {"haven.v1.ChangeConsentStatusRequest.consent_id", limits::kNodeIdChars},
      {"haven.v1.ChangeConsentStatusRequest.reason", limits::kMaxReasonBytes},
      {"haven.v1.RecordRefusalRequest.subject_id", limits::kNodeIdChars},
      {"haven.v1.RecordRefusalRequest.evidence_sha256", limits::kSha256Bytes},
      {"haven.v1.RecordRefusalRequest.agency_id", limits::kMaxAgencyIdBytes},
      {"haven.v1.LiftRefusalRequest.refusal_id", limits::kNodeIdChars},
      {"haven.v1.GetConsentRequest.consent_id", limits::kNodeIdChars},
      {"haven.v1.ListConsentsRequest.subject_id", limits::kNodeIdChars},
      // admin.proto
      {"haven.v1.LoadPolicyRequest.policy_text", limits::kMaxPolicyBytes},
      {"haven.v1.LoadPolicyRequest.format", limits::kMaxPolicyFormatBytes},
      {"haven.v1.ExplainDecisionRequest.subject_id", limits::kNodeIdChars},
      {"haven.v1.ExplainDecisionRequest.requester_agency_id",
       limits::kMaxAgencyIdBytes},
      {"haven.v1.ExplainDecisionRequest.justification",
       limits::kMaxJustificationBytes},
      {"haven.v1.BackupRequest.to_dir", limits::kMaxPathBytes},
      {"haven.v1.AcknowledgeRollbackRequest.reason",
       limits::kMaxJustificationBytes},
      // audit.proto
      {"haven.v1.FindEntriesRequest.subject_pseudonym",
       limits::kPseudonymChars},
      {"haven.v1.FindEntriesRequest.agency_id", limits::kMaxAgencyIdBytes},
      {"haven.v1.SubjectAccessReportRequest.subject_id", limits::kNodeIdChars},
      {"haven.v1.GetWitnessedRequest.agency_id", limits::kMaxAgencyIdBytes},
      {"haven.v1.SignOffBreakGlassRequest.note",
       limits::kMaxJustificationBytes},
      {"haven.v1.Checkpoint.note", limits::kMaxCheckpointNoteBytes},
      {"haven.v1.Checkpoint.origin", limits::kMaxCheckpointOriginBytes},
      {"haven.v1.Checkpoint.root_hash", limits::kSha256Bytes},
      {"haven.v1.ExchangeCheckpointRequest.cosigned_note",
       limits::kMaxCheckpointNoteBytes},
      // exchange.proto, local
      {"haven.v1.RequestDisclosureRequest.holder_agency_id",
       limits::kMaxAgencyIdBytes},
      {"haven.v1.RequestDisclosureRequest.handle", limits::kNodeIdChars},
      {"haven.v1.RequestDisclosureRequest.justification",
       limits::kMaxJustificationBytes},
      {"haven.v1.ListHandlesRequest.page_token", limits::kMaxPageTokenBytes},
      // exchange.proto, peer
      {"haven.v1.DiscloseRequest.requests", limits::kMaxRequestBytes},
      {"haven.v1.DiscloseRequest.signature", limits::kPeerSignatureBytes},
      {"haven.v1.DisclosureRequest.request_id", limits::kMaxRequestIdChars},
      {"haven.v1.DisclosureRequest.requester_agency_id",
       limits::kMaxAgencyIdBytes},
      {"haven.v1.DisclosureRequest.handle", limits::kNodeIdChars},
      {"haven.v1.DisclosureRequest.justification",
       limits::kMaxJustificationBytes},
      {"haven.v1.DisclosureRequest.requester_principal",
       limits::kMaxPrincipalBytes},
      {"haven.v1.OfferHandleRequest.signature", limits::kPeerSignatureBytes},
      {"haven.v1.SubjectHandle.handle", limits::kNodeIdChars},
      {"haven.v1.SubjectHandle.holder_agency_id", limits::kMaxAgencyIdBytes},
      {"haven.v1.SubjectHandle.grantee_agency_id", limits::kMaxAgencyIdBytes},
      {"haven.v1.NotifyRevocationRequest.signature",
       limits::kPeerSignatureBytes},
      {"haven.v1.RevocationNotice.notice_id", limits::kMaxNoticeIdBytes},
      {"haven.v1.RevocationNotice.holder_agency_id", limits::kMaxAgencyIdBytes},
      {"haven.v1.RevocationNotice.handle", limits::kNodeIdChars},
      {"haven.v1.RevocationNotice.consent_id", limits::kNodeIdChars},
      {"haven.v1.RevocationNotice.change", limits::kMaxNoticeChangeBytes},
      {"haven.v1.EchoRequest.payload", limits::kMaxEchoPayloadBytes},
  };
  return *limits;
}

// Bytes fields that carry a serialized message, whose fields are checked
// as well (each inner field at ten times its limit, the outer re-signed).
const std::map<std::string, const Descriptor*>& Embedded() {
  static const auto* const embedded =
      new std::map<std::string, const Descriptor*>{
          {"haven.v1.DiscloseRequest.requests",
           haven::v1::DisclosureRequest::descriptor()},
      };
  return *embedded;
}

// The services this test covers: every service of the haven.v1 files,
// reached through a message of each file so that the generated
// descriptors are linked in.
std::vector<const ServiceDescriptor*> Services() {
  const FileDescriptor* files[] = {
      haven::v1::PutRecordRequest::descriptor()->file(),
      haven::v1::RecordConsentRequest::descriptor()->file(),
      haven::v1::LoadPolicyRequest::descriptor()->file(),
      haven::v1::GetEntriesRequest::descriptor()->file(),
      haven::v1::DiscloseRequest::descriptor()->file(),
  };
  // The files those import, so that a service added to one of them is
  // found too.
  std::set<const FileDescriptor*> seen;
  std::vector<const FileDescriptor*> queue(std::begin(files), std::end(files));
  std::vector<const ServiceDescriptor*> services;
  while (!queue.empty()) {
    const FileDescriptor* file = queue.back();
    queue.pop_back();
    if (!seen.insert(file).second) continue;
    for (int i = 0; i < file->service_count(); ++i) {
      services.push_back(file->service(i));
    }
    for (int i = 0; i < file->dependency_count(); ++i) {
      queue.push_back(file->dependency(i));
    }
  }
  return services;
}

// One string or bytes field of a request: the path to it, and, when it
// lies inside a message carried as bytes, the path inside that message.
struct Leaf {
  std::vector<const FieldDescriptor*> outer;
  std::vector<const FieldDescriptor*> inner;

  const FieldDescriptor* field() const {
    return inner.empty() ? outer.back() : inner.back();
  }
  std::string Name() const {
    auto names = [](const std::vector<const FieldDescriptor*>& path) {
      std::vector<std::string> parts;
      for (const FieldDescriptor* f : path) {
        parts.push_back(f->is_repeated() ? f->name() + "[0]" : f->name());
      }
      return absl::StrJoin(parts, ".");
    };
    return inner.empty() ? names(outer)
                         : absl::StrCat(names(outer), "{", names(inner), "}");
  }
};

bool IsText(const FieldDescriptor* f) {
  return f->type() == FieldDescriptor::TYPE_STRING ||
         f->type() == FieldDescriptor::TYPE_BYTES;
}

// Every string and bytes field reachable from `type`.
void CollectLeaves(const Descriptor* type,
                   std::vector<const FieldDescriptor*>* path,
                   std::vector<std::vector<const FieldDescriptor*>>* out) {
  ASSERT_LT(path->size(), 8u) << "request messages nest deeper than expected";
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* f = type->field(i);
    path->push_back(f);
    if (IsText(f)) {
      out->push_back(*path);
    } else if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
      CollectLeaves(f->message_type(), path, out);
    }
    path->pop_back();
  }
}

std::vector<Leaf> LeavesOf(const Descriptor* request) {
  std::vector<std::vector<const FieldDescriptor*>> paths;
  std::vector<const FieldDescriptor*> path;
  CollectLeaves(request, &path, &paths);
  std::vector<Leaf> leaves;
  for (const auto& outer : paths) {
    leaves.push_back({outer, {}});
    auto embedded = Embedded().find(outer.back()->full_name());
    if (embedded == Embedded().end()) continue;
    std::vector<std::vector<const FieldDescriptor*>> inner_paths;
    std::vector<const FieldDescriptor*> inner_path;
    CollectLeaves(embedded->second, &inner_path, &inner_paths);
    for (const auto& inner : inner_paths) leaves.push_back({outer, inner});
  }
  return leaves;
}

// Sets the field at `path` of `message` to `value`, taking element 0 of a
// repeated field (added if there is none).
void SetAt(Message* message, const std::vector<const FieldDescriptor*>& path,
           const std::string& value) {
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    const Reflection* r = message->GetReflection();
    const FieldDescriptor* f = path[i];
    if (f->is_repeated()) {
      message = r->FieldSize(*message, f) == 0
                    ? r->AddMessage(message, f)
                    : r->MutableRepeatedMessage(message, f, 0);
    } else {
      message = r->MutableMessage(message, f);
    }
  }
  const Reflection* r = message->GetReflection();
  const FieldDescriptor* f = path.back();
  if (f->is_repeated()) {
    if (r->FieldSize(*message, f) == 0) {
      r->AddString(message, f, value);
    } else {
      r->SetRepeatedString(message, f, 0, value);
    }
  } else {
    r->SetString(message, f, value);
  }
}

std::string GetAt(const Message& message,
                  const std::vector<const FieldDescriptor*>& path) {
  const Message* m = &message;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    const Reflection* r = m->GetReflection();
    m = path[i]->is_repeated() ? &r->GetRepeatedMessage(*m, path[i], 0)
                               : &r->GetMessage(*m, path[i]);
  }
  const Reflection* r = m->GetReflection();
  return path.back()->is_repeated() ? r->GetRepeatedString(*m, path.back(), 0)
                                    : r->GetString(*m, path.back());
}

bool IsRefusalCode(grpc::StatusCode code) {
  return code == grpc::StatusCode::INVALID_ARGUMENT ||
         code == grpc::StatusCode::RESOURCE_EXHAUSTED;
}

// Where and as whom a method is called.
struct Route {
  std::string node;  // the agency whose node is called
  std::string role;  // a local role, or empty for the peer API
  std::string as;    // on the peer API: the calling agency
};

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    federation_ = std::make_unique<TestFederation>(dir_.path() + "/fed");
    const std::string policies = SourceDir() + "/policy/examples/";
    std::string error;
    ASSERT_TRUE(federation_->Create({ExampleMember(kHolder, "VICTIM_SERVICES"),
                                     ExampleMember(kGrantee, "LEGAL_SERVICES")},
                                    &error))
        << error;
    ASSERT_TRUE(federation_->Start(&error)) << error;
    for (const char* agency : {kHolder, kGrantee}) {
      local_[agency] = std::make_unique<grpc::GenericStub>(
          federation_->node(agency).LocalChannel());
    }
    peer_[kHolder] = PeerStub(/*as=*/kGrantee, /*to=*/kHolder);
    peer_[kGrantee] = PeerStub(/*as=*/kHolder, /*to=*/kGrantee);
    policy_text_ = ReadFileOrEmpty(policies + "safe-harbor.textproto");
    ASSERT_FALSE(policy_text_.empty());
  }

  // A generic stub on `to`'s peer API presenting `as`'s certificate.
  std::unique_ptr<grpc::GenericStub> PeerStub(const std::string& as,
                                              const std::string& to) {
    return std::make_unique<grpc::GenericStub>(
        PeerChannel(*federation_, as, to));
  }

  // One unary call of `method` ("/pkg.Service/Method") with `request`;
  // the reply's bytes go to `reply`.
  grpc::Status Call(const Route& route, const std::string& method,
                    const Message& request, std::string* reply = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(In(std::chrono::seconds(30)));
    grpc::GenericStub* stub;
    if (route.role.empty()) {
      stub = peer_.at(route.node).get();
    } else {
      stub = local_.at(route.node).get();
      context.AddMetadata(
          "authorization",
          "Bearer " + federation_->node(route.node).token(route.role));
    }
    const std::string bytes = request.SerializeAsString();
    grpc::Slice slice(bytes);
    grpc::ByteBuffer send(&slice, 1);
    grpc::ByteBuffer received;
    std::promise<grpc::Status> done;
    stub->UnaryCall(
        &context, method, grpc::StubOptions(), &send, &received,
        [&done](grpc::Status status) { done.set_value(std::move(status)); });
    grpc::Status status = done.get_future().get();
    if (reply != nullptr) {
      reply->clear();
      std::vector<grpc::Slice> slices;
      if (status.ok() && received.Dump(&slices).ok()) {
        for (const grpc::Slice& s : slices) {
          reply->append(reinterpret_cast<const char*>(s.begin()), s.size());
        }
      }
    }
    return status;
  }

  template <typename Response>
  Response CallOk(const Route& route, const std::string& method,
                  const Message& request) {
    std::string bytes;
    grpc::Status status = Call(route, method, request, &bytes);
    EXPECT_TRUE(status.ok()) << method << ": " << status.error_message();
    Response response;
    EXPECT_TRUE(response.ParseFromString(bytes)) << method;
    return response;
  }

  uint64_t TreeSize(const std::string& agency) {
    return CallOk<haven::v1::GetStatusResponse>(
               {agency, "admin", ""}, "/haven.v1.AdminService/GetStatus",
               haven::v1::GetStatusRequest())
        .audit_tree_size();
  }

  // What either node holds that a refused request must not change, and
  // that can be read without writing an audit entry.
  std::string State() {
    std::string state;
    haven::v1::ListConsentsRequest list;
    list.set_subject_id(subject_);
    absl::StrAppend(&state, "consents:",
                    CallOk<haven::v1::ListConsentsResponse>(
                        {kHolder, "advocate", ""},
                        "/haven.v1.ConsentService/ListConsents", list)
                        .ShortDebugString());
    haven::v1::GetConsentRequest get;
    get.set_consent_id(consent_id_);
    absl::StrAppend(&state, "\nhistory:",
                    CallOk<haven::v1::GetConsentResponse>(
                        {kHolder, "advocate", ""},
                        "/haven.v1.ConsentService/GetConsent", get)
                        .ShortDebugString());
    for (const char* agency : {kHolder, kGrantee}) {
      absl::StrAppend(
          &state, "\npolicy ", agency, ":",
          CallOk<haven::v1::GetPolicyResponse>(
              {agency, "admin", ""}, "/haven.v1.AdminService/GetPolicy",
              haven::v1::GetPolicyRequest())
              .policy_version());
      absl::StrAppend(&state, "\nhandles ", agency, ":",
                      CallOk<haven::v1::ListHandlesResponse>(
                          {agency, "caseworker", ""},
                          "/haven.v1.ExchangeService/ListHandles",
                          haven::v1::ListHandlesRequest())
                          .ShortDebugString());
    }
    return state;
  }

  // The subject's records, read once before and once after the refused
  // calls (a read is itself logged).
  std::string Records() {
    haven::v1::ListRecordsRequest request;
    request.set_subject_id(subject_);
    return CallOk<haven::v1::ListRecordsResponse>(
               {kHolder, "caseworker", ""},
               "/haven.v1.RecordService/ListRecords", request)
        .ShortDebugString();
  }

  // A survivor at the holder with one record, a consent for the grantee,
  // and the handle the holder then gave the grantee.
  void MakeSurvivor() {
    subject_ = CallOk<haven::v1::CreateSubjectResponse>(
                   {kHolder, "caseworker", ""},
                   "/haven.v1.RecordService/CreateSubject",
                   haven::v1::CreateSubjectRequest())
                   .subject_id();
    haven::v1::PutRecordRequest put;
    put.set_subject_id(subject_);
    haven::v1::Field* field = put.add_fields();
    field->set_name("phone");
    field->set_category(haven::v1::CONTACT);
    field->set_value("555-0100");
    record_id_ = CallOk<haven::v1::PutRecordResponse>(
                     {kHolder, "caseworker", ""},
                     "/haven.v1.RecordService/PutRecord", put)
                     .record_id();
    haven::v1::RecordConsentRequest consent;
    consent.mutable_consent()->set_subject_id(subject_);
    consent.mutable_consent()->mutable_grantee()->set_agency_id(kGrantee);
    consent.mutable_consent()->add_purposes(haven::v1::LEGAL_REPRESENTATION);
    consent.mutable_consent()->add_categories(haven::v1::CONTACT);
    consent.mutable_consent()->mutable_valid()->set_from_unix(NowUnix() - 60);
    consent.mutable_consent()->mutable_valid()->set_until_unix(NowUnix() +
                                                               86400);
    consent_id_ = CallOk<haven::v1::RecordConsentResponse>(
                      {kHolder, "advocate", ""},
                      "/haven.v1.ConsentService/RecordConsent", consent)
                      .receipt()
                      .consent()
                      .consent_id();
    // The holder pushes the handle; wait (bounded) until the grantee has
    // it, so that no delivery lands while the refused calls are counted.
    const auto give_up = In(std::chrono::seconds(15));
    while (handle_.empty() && std::chrono::system_clock::now() < give_up) {
      auto page = CallOk<haven::v1::ListHandlesResponse>(
          {kGrantee, "caseworker", ""}, "/haven.v1.ExchangeService/ListHandles",
          haven::v1::ListHandlesRequest());
      for (const auto& h : page.handles()) handle_ = h.handle();
      if (handle_.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    ASSERT_FALSE(handle_.empty()) << "the grantee received no handle";
  }

  // A request each method would accept, as text format, with $NAMES
  // standing for the fixture's ids. Every method of every service needs
  // one: a new method fails the test until it is added here.
  std::map<std::string, std::string> BaseRequests() {
    const std::string now = absl::StrCat(NowUnix());
    const std::string until = absl::StrCat(NowUnix() + 86400);
    const std::string consent = absl::StrCat(
        "subject_id: '$SUBJECT' grantee { agency_id: 'legal-aid' } ",
        "purposes: LEGAL_REPRESENTATION categories: CONTACT ",
        "valid { from_unix: ", now, " until_unix: ", until, " } ",
        "evidence_sha256: '", std::string(32, 'e'), "'");
    return {
        {"haven.v1.RecordService.CreateSubject", ""},
        {"haven.v1.RecordService.PutRecord",
         "subject_id: '$SUBJECT' record_id: '$RECORD' fields { name: "
         "'phone' category: CONTACT value: '555-0101' }"},
        {"haven.v1.RecordService.GetRecord",
         "subject_id: '$SUBJECT' record_id: '$RECORD'"},
        {"haven.v1.RecordService.ListRecords", "subject_id: '$SUBJECT'"},
        {"haven.v1.RecordService.FindSubject", "case_reference: 'SH-1'"},
        {"haven.v1.RecordService.EraseSubject",
         "subject_id: '$SUBJECT' reason: 'survivor withdrew'"},
        {"haven.v1.ConsentService.RecordConsent",
         absl::StrCat("consent { ", consent, " }")},
        {"haven.v1.ConsentService.AmendConsent",
         absl::StrCat("consent_id: '$CONSENT' consent { ", consent, " }")},
        {"haven.v1.ConsentService.PauseConsent",
         "consent_id: '$CONSENT' reason: 'survivor asked to pause'"},
        {"haven.v1.ConsentService.ResumeConsent", "consent_id: '$CONSENT'"},
        {"haven.v1.ConsentService.RevokeConsent",
         "consent_id: '$CONSENT' reason: 'survivor withdrew consent'"},
        {"haven.v1.ConsentService.RecordRefusal",
         absl::StrCat("subject_id: '$SUBJECT' evidence_sha256: '",
                      std::string(32, 'e'), "'")},
        {"haven.v1.ConsentService.LiftRefusal", "refusal_id: '$RANDOM'"},
        {"haven.v1.ConsentService.GetConsent", "consent_id: '$CONSENT'"},
        {"haven.v1.ConsentService.ListConsents", "subject_id: '$SUBJECT'"},
        {"haven.v1.AdminService.GetStatus", ""},
        {"haven.v1.AdminService.LoadPolicy", "format: 'textproto'"},
        {"haven.v1.AdminService.GetPolicy", ""},
        {"haven.v1.AdminService.ReloadManifest", ""},
        {"haven.v1.AdminService.ReloadCertificate", ""},
        {"haven.v1.AdminService.RotateKey", ""},
        {"haven.v1.AdminService.RetireKey", "kek_version: 1"},
        {"haven.v1.AdminService.RotateSigningKey", ""},
        {"haven.v1.AdminService.ExplainDecision",
         "subject_id: '$SUBJECT' requester_agency_id: 'legal-aid' purpose: "
         "LEGAL_REPRESENTATION categories: CONTACT"},
        {"haven.v1.AdminService.Backup", "to_dir: '/nonexistent/backup'"},
        {"haven.v1.AdminService.AcknowledgeRollback",
         "reason: 'restored after the disk failed'"},
        {"haven.v1.AuditService.GetCheckpoint", ""},
        {"haven.v1.AuditService.GetEntries", "start: 0 count: 10"},
        {"haven.v1.AuditService.FindEntries",
         absl::StrCat("subject_pseudonym: '", std::string(64, 'a'),
                      "' agency_id: 'legal-aid' limit: 10")},
        {"haven.v1.AuditService.Follow", "start: 0"},
        {"haven.v1.AuditService.GetInclusionProof", "leaf_index: 0"},
        {"haven.v1.AuditService.GetConsistencyProof", "old_size: 1"},
        {"haven.v1.AuditService.GetProofBundle", "leaf_index: 0"},
        {"haven.v1.AuditService.SubjectAccessReport", "subject_id: '$SUBJECT'"},
        {"haven.v1.AuditService.GetWitnessed", "agency_id: 'legal-aid'"},
        {"haven.v1.AuditService.ListBreakGlassReviews", ""},
        {"haven.v1.AuditService.SignOffBreakGlass",
         "index: 0 note: 'reviewed: the emergency was real'"},
        {"haven.v1.ExchangeService.RequestDisclosure",
         "holder_agency_id: 'safe-harbor' handle: '$HANDLE' purpose: "
         "LEGAL_REPRESENTATION categories: CONTACT"},
        {"haven.v1.ExchangeService.ListHandles", "page_size: 10"},
        {"haven.v1.ExchangeService.WatchNotices", ""},
        // Signed (and, for Disclose, the inner request serialized) by
        // Finish below.
        {"haven.v1.PeerService.Disclose", ""},
        {"haven.v1.PeerService.OfferHandle",
         absl::StrCat("handle { handle: '$RANDOM' holder_agency_id: "
                      "'safe-harbor' grantee_agency_id: 'legal-aid' "
                      "issued_unix: ",
                      now, " }")},
        {"haven.v1.PeerService.NotifyRevocation",
         absl::StrCat("notice { notice_id: '$RANDOM' holder_agency_id: "
                      "'safe-harbor' handle: '$HANDLE' consent_id: '$RANDOM' "
                      "change: 'revoked' effective_unix: ",
                      now, " }")},
        {"haven.v1.PeerService.ExchangeCheckpoint",
         "checkpoint { note: '$NOTE' origin: '$ORIGIN' tree_size: 1 "
         "root_hash: '$ROOT' }"},
        {"haven.v1.PeerService.Echo", "payload: 'ping'"},
        {"haven.v1.PeerService.GetManifest", ""},
    };
  }

  std::unique_ptr<Message> BaseRequest(const MethodDescriptor* method,
                                       const std::string& text) {
    std::unique_ptr<Message> request(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(method->input_type())
            ->New());
    const std::string filled = absl::StrReplaceAll(
        text, {{"$SUBJECT", subject_},
               {"$RECORD", record_id_},
               {"$CONSENT", consent_id_},
               {"$HANDLE", handle_},
               {"$RANDOM", RandomHex(16)},
               {"$NOTE", absl::CEscape(grantee_checkpoint_.note())},
               {"$ORIGIN", grantee_checkpoint_.origin()},
               {"$ROOT", absl::CEscape(grantee_checkpoint_.root_hash())}});
    EXPECT_TRUE(
        google::protobuf::TextFormat::ParseFromString(filled, request.get()))
        << method->full_name() << ": " << filled;
    if (method->input_type() == haven::v1::LoadPolicyRequest::descriptor()) {
      static_cast<haven::v1::LoadPolicyRequest*>(request.get())
          ->set_policy_text(policy_text_);
    }
    return request;
  }

  // A DisclosureRequest the holder would decide on, from the grantee.
  haven::v1::DisclosureRequest PeerRequest() {
    haven::v1::DisclosureRequest request;
    request.set_request_id(RandomHex(16));
    request.set_sent_unix(NowUnix());
    request.set_requester_agency_id(kGrantee);
    request.set_handle(handle_);
    request.set_purpose(haven::v1::LEGAL_REPRESENTATION);
    request.add_categories(haven::v1::CONTACT);
    request.set_justification("");
    request.set_requester_principal("legal-aid/caseworker");
    return request;
  }

  // Sets `leaf` of `request` to `value`, then signs what the method's
  // receiver verifies, as its sender would (unless the signature is the
  // field under test).
  void Mutate(const MethodDescriptor* method, const Leaf& leaf,
              const std::string& value, Message* request) {
    const std::string name = method->full_name();
    if (name == "haven.v1.PeerService.Disclose") {
      auto* batch = static_cast<haven::v1::DiscloseRequest*>(request);
      haven::v1::DisclosureRequest inner = PeerRequest();
      if (!leaf.inner.empty()) SetAt(&inner, leaf.inner, value);
      batch->add_requests(server::exchange::Deterministic(inner));
      if (leaf.inner.empty()) SetAt(batch, leaf.outer, value);
      if (leaf.outer.back()->name() != "signature") {
        batch->set_signature(server::exchange::SignBatch(
            *grantee_signer_, client::kRequestBatchContext, batch->requests()));
      }
      return;
    }
    SetAt(request, leaf.outer, value);
    const bool signature = leaf.outer.back()->name() == "signature";
    if (name == "haven.v1.PeerService.OfferHandle" && !signature) {
      auto* offer = static_cast<haven::v1::OfferHandleRequest*>(request);
      offer->set_signature(server::exchange::Sign(
          *holder_signer_, server::exchange::kHandleContext,
          server::exchange::Deterministic(offer->handle())));
    }
    if (name == "haven.v1.PeerService.NotifyRevocation" && !signature) {
      auto* notify = static_cast<haven::v1::NotifyRevocationRequest*>(request);
      notify->set_signature(server::exchange::Sign(
          *holder_signer_, server::exchange::kNoticeContext,
          server::exchange::Deterministic(notify->notice())));
    }
  }

  Route RouteOf(const MethodDescriptor* method) {
    const std::string service = method->service()->full_name();
    if (service == "haven.v1.RecordService") return {kHolder, "caseworker", ""};
    if (service == "haven.v1.ConsentService") return {kHolder, "advocate", ""};
    if (service == "haven.v1.AdminService") return {kHolder, "admin", ""};
    if (service == "haven.v1.AuditService") return {kHolder, "auditor", ""};
    if (service == "haven.v1.ExchangeService") {
      return {kGrantee, "caseworker", ""};
    }
    // Peer calls: a holder's offers and notices go to the grantee; the
    // rest go to the holder, from the grantee.
    if (method->name() == "OfferHandle" ||
        method->name() == "NotifyRevocation") {
      return {kGrantee, "", kHolder};
    }
    return {kHolder, "", kGrantee};
  }

  TempDir dir_;
  std::unique_ptr<TestFederation> federation_;
  std::map<std::string, std::unique_ptr<grpc::GenericStub>> local_;
  std::map<std::string, std::unique_ptr<grpc::GenericStub>> peer_;
  std::unique_ptr<server::crypto::Ed25519Signer> holder_signer_;
  std::unique_ptr<server::crypto::Ed25519Signer> grantee_signer_;
  std::string policy_text_;
  std::string subject_;
  std::string record_id_;
  std::string consent_id_;
  std::string handle_;
  haven::v1::Checkpoint grantee_checkpoint_;
};

TEST_F(LimitsTest,
       EveryRequestFieldAtTenTimesItsBoundIsRefusedAndLeavesNothing) {
  MakeSurvivor();
  holder_signer_ = NodeSigner(*federation_, kHolder);
  grantee_signer_ = NodeSigner(*federation_, kGrantee);
  ASSERT_NE(holder_signer_, nullptr);
  ASSERT_NE(grantee_signer_, nullptr);
  grantee_checkpoint_ =
      CallOk<haven::v1::GetCheckpointResponse>(
          {kGrantee, "auditor", ""}, "/haven.v1.AuditService/GetCheckpoint",
          haven::v1::GetCheckpointRequest())
          .checkpoint();
  ASSERT_GT(grantee_checkpoint_.tree_size(), 0u);

  // Completeness: every service, every method, every field.
  const std::vector<const ServiceDescriptor*> services = Services();
  std::set<std::string> service_names;
  for (const ServiceDescriptor* s : services) {
    service_names.insert(s->full_name());
  }
  EXPECT_EQ(service_names, (std::set<std::string>{
                               haven::v1::RecordService::service_full_name(),
                               haven::v1::ConsentService::service_full_name(),
                               haven::v1::AdminService::service_full_name(),
                               haven::v1::AuditService::service_full_name(),
                               haven::v1::ExchangeService::service_full_name(),
                               haven::v1::PeerService::service_full_name()}))
      << "a service was added or removed: give its methods base requests "
         "and its fields limits here";
  const std::map<std::string, std::string> bases = BaseRequests();
  std::set<std::string> limited_fields_seen;
  int refused = 0;

  const std::string records_before = Records();
  const std::string state_before = State();
  const uint64_t grantee_size_before = TreeSize(kGrantee);

  for (const ServiceDescriptor* service : services) {
    for (int m = 0; m < service->method_count(); ++m) {
      const MethodDescriptor* method = service->method(m);
      SCOPED_TRACE(method->full_name());
      auto base = bases.find(method->full_name());
      ASSERT_NE(base, bases.end())
          << "no base request for " << method->full_name();
      const std::vector<Leaf> leaves = LeavesOf(method->input_type());
      if (method->client_streaming() || method->server_streaming()) {
        // Streaming requests carry no string or bytes field today; one
        // that does needs a streaming sender here, so it fails until then.
        EXPECT_TRUE(leaves.empty())
            << method->full_name() << " streams and now has text fields";
        continue;
      }
      for (const Leaf& leaf : leaves) {
        SCOPED_TRACE(leaf.Name());
        const std::string field = leaf.field()->full_name();
        auto limit = Limits().find(field);
        ASSERT_NE(limit, Limits().end())
            << field << " has no limit in this test's table (and perhaps "
            << "none in limits.h or its proto comment)";
        limited_fields_seen.insert(field);
        const std::string value(10 * limit->second, 'a');

        std::unique_ptr<Message> request = BaseRequest(method, base->second);
        Mutate(method, leaf, value, request.get());
        if (leaf.inner.empty()) {
          ASSERT_EQ(GetAt(*request, leaf.outer).size(), value.size());
        }
        const Route route = RouteOf(method);
        const std::string path =
            absl::StrCat("/", service->full_name(), "/", method->name());
        // Counted around each call, so that one failure does not hide or
        // blame another.
        const uint64_t holder_size = TreeSize(kHolder);
        const uint64_t grantee_size = TreeSize(kGrantee);
        std::string reply;
        grpc::Status status = Call(route, path, *request, &reply);

        bool holder_logged_refusal = false;
        if (method->full_name() == "haven.v1.PeerService.Disclose") {
          // A holder answers a batch it can check one request at a time:
          // an out-of-bounds request is refused in its answer. Either way
          // it records the refusal, with only what the certificate proves
          // and a bounded request id.
          holder_logged_refusal = true;
          if (status.ok()) {
            haven::v1::DiscloseResponse response;
            ASSERT_TRUE(response.ParseFromString(reply));
            ASSERT_EQ(response.answers_size(), 1);
            haven::v1::DisclosureAnswer answer;
            ASSERT_TRUE(answer.ParseFromString(response.answers(0)));
            ASSERT_TRUE(answer.has_refusal()) << answer.ShortDebugString();
            EXPECT_EQ(answer.refusal().code(),
                      static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT))
                << answer.refusal().message();
          } else {
            EXPECT_TRUE(IsRefusalCode(status.error_code()))
                << status.error_code() << " " << status.error_message();
          }
        } else {
          EXPECT_FALSE(status.ok()) << "accepted";
          EXPECT_TRUE(IsRefusalCode(status.error_code()))
              << status.error_code() << " " << status.error_message();
        }
        // The message names the field or the limit, never the value.
        EXPECT_EQ(status.error_message().find(value.substr(0, 64)),
                  std::string::npos);
        ++refused;

        uint64_t holder_refusals = 0;
        if (holder_logged_refusal && TreeSize(kHolder) == holder_size + 1) {
          holder_refusals = 1;
          haven::v1::GetEntriesRequest get;
          get.set_start(holder_size);
          get.set_count(1);
          auto entries = CallOk<haven::v1::GetEntriesResponse>(
              {kHolder, "auditor", ""}, "/haven.v1.AuditService/GetEntries",
              get);
          ASSERT_EQ(entries.entries_size(), 1);
          const auto& entry = entries.entries(0);
          EXPECT_EQ(entry.entry().kind(), haven::v1::REQUEST_REFUSED);
          EXPECT_EQ(entry.entry().agency_id(), kGrantee);
          EXPECT_LE(entry.leaf().size(), 1024u);
          EXPECT_EQ(entry.leaf().find(value.substr(0, 100)), std::string::npos)
              << "the oversized value reached the holder's log";
        }
        EXPECT_EQ(TreeSize(kHolder), holder_size + holder_refusals)
            << "holder logged";
        EXPECT_EQ(TreeSize(kGrantee), grantee_size) << "grantee logged";
        EXPECT_EQ(State(), state_before) << "state changed";
        if (holder_logged_refusal) {
          EXPECT_EQ(holder_refusals, 1u)
              << "the holder did not record its refusal";
        }
      }
    }
  }

  // Every field in the table was reached: a field renamed or removed
  // leaves a stale entry, which would hide a new one.
  for (const auto& [field, limit] : Limits()) {
    EXPECT_TRUE(limited_fields_seen.count(field))
        << field << " is in the table but in no request";
  }
  EXPECT_GE(refused, static_cast<int>(Limits().size()));

  EXPECT_EQ(State(), state_before);
  EXPECT_EQ(TreeSize(kGrantee), grantee_size_before);
  EXPECT_EQ(Records(), records_before);

  // Both logs still verify from scratch, with trusted state kept in the
  // test's directory.
  for (const char* agency : {kHolder, kGrantee}) {
    std::string out;
    EXPECT_EQ(federation_->node(agency).Havenctl(
                  "auditor",
                  {"audit", "verify", "--state",
                   dir_.path() + "/" + agency + "-audit-state"},
                  &out),
              0)
        << agency << ": " << out;
  }
}

// The roles each local RPC's proto comment names ("// Roles: A, B."), by
// "Service.Method", read from the .proto sources.
std::map<std::string, std::set<std::string>> DocumentedRoles() {
  std::map<std::string, std::set<std::string>> roles;
  for (const auto& entry :
       std::filesystem::directory_iterator(SourceDir() + "/proto/haven/v1")) {
    if (entry.path().extension() != ".proto") continue;
    std::istringstream text(ReadFileOrEmpty(entry.path().string()));
    std::string line;
    std::string service;
    std::string comment;
    const std::regex service_line(R"(^service (\w+) \{)");
    const std::regex roles_line(R"(^  // Roles: ([A-Z, ]+)\.$)");
    const std::regex rpc_line(R"(^  rpc (\w+)\()");
    std::smatch match;
    while (std::getline(text, line)) {
      if (std::regex_search(line, match, service_line)) {
        service = match[1];
      } else if (std::regex_search(line, match, roles_line)) {
        comment = match[1];
        continue;
      } else if (std::regex_search(line, match, rpc_line)) {
        std::set<std::string>& names = roles[service + "." + match[1].str()];
        for (absl::string_view role : absl::StrSplit(comment, ", ")) {
          if (!role.empty()) names.insert(absl::AsciiStrToLower(role));
        }
      }
      comment.clear();
    }
  }
  return roles;
}

// Docs that match the code: every local RPC's proto comment names its
// roles, and the node answers exactly those roles (any other role's token
// gets PERMISSION_DENIED). Called with empty requests: a permitted role
// gets past the role check to whatever the empty request earns.
TEST_F(LimitsTest, EachLocalRpcAnswersExactlyTheRolesItsProtoCommentNames) {
  const std::map<std::string, std::set<std::string>> documented =
      DocumentedRoles();
  int checked = 0;
  for (const char* name : {"haven.v1.RecordService", "haven.v1.ConsentService",
                           "haven.v1.AdminService", "haven.v1.AuditService",
                           "haven.v1.ExchangeService"}) {
    const ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name);
    ASSERT_NE(service, nullptr) << name;
    for (int m = 0; m < service->method_count(); ++m) {
      const MethodDescriptor* method = service->method(m);
      const std::string key =
          absl::StrCat(service->name(), ".", method->name());
      SCOPED_TRACE(key);
      auto roles = documented.find(key);
      ASSERT_NE(roles, documented.end()) << "no \"// Roles:\" comment";
      ASSERT_FALSE(roles->second.empty());
      // Streams are checked by their own e2e tests; the comment must be
      // there all the same.
      if (method->client_streaming() || method->server_streaming()) continue;
      std::unique_ptr<Message> empty(
          google::protobuf::MessageFactory::generated_factory()
              ->GetPrototype(method->input_type())
              ->New());
      for (const char* role : TestNode::kRoles) {
        const grpc::Status status =
            Call({kHolder, role, ""},
                 absl::StrCat("/", name, "/", method->name()), *empty);
        if (roles->second.count(role) > 0) {
          EXPECT_NE(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
              << role << ": " << status.error_message();
          EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
              << role;
        } else {
          EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
              << role << ": " << status.error_message();
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 100);
}

}  // namespace
}  // namespace haven::testing

#include "client/console/node_bridge.h"

#include <future>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "haven/v1/admin.grpc.pb.h"
#include "haven/v1/audit.grpc.pb.h"
#include "haven/v1/consent.grpc.pb.h"
#include "haven/v1/exchange.grpc.pb.h"
#include "haven/v1/records.grpc.pb.h"

namespace haven::client::console {

namespace {

namespace pb = google::protobuf;

// Referencing each file's descriptor also makes sure the generated code
// (and so its descriptors) is linked in. (auth.proto is linked by
// console_server.cc, which uses its messages.)
const pb::FileDescriptor* const kFiles[] = {
    haven::v1::FindSubjectRequest::descriptor()->file(),
    haven::v1::RecordConsentRequest::descriptor()->file(),
    haven::v1::RequestDisclosureRequest::descriptor()->file(),
    haven::v1::SubjectAccessReportRequest::descriptor()->file(),
    haven::v1::GetStatusRequest::descriptor()->file(),
};

const pb::MethodDescriptor* FindMethod(const std::string& service,
                                       const std::string& method) {
  (void)kFiles;
  const pb::ServiceDescriptor* s =
      pb::DescriptorPool::generated_pool()->FindServiceByName(service);
  if (s == nullptr) return nullptr;
  const pb::MethodDescriptor* m = s->FindMethodByName(method);
  if (m == nullptr || m->client_streaming() || m->server_streaming()) {
    return nullptr;
  }
  return m;
}

NodeAnswer Local(grpc::StatusCode code, std::string message) {
  return NodeAnswer{grpc::Status(code, std::move(message)), ""};
}

}  // namespace

absl::StatusOr<std::unique_ptr<NodeBridge>> NodeBridge::Create(
    ConnectionOptions options) {
  options.token.clear();
  auto connection = Connection::Create(std::move(options));
  if (!connection.ok()) return connection.status();
  return std::unique_ptr<NodeBridge>(new NodeBridge(std::move(*connection)));
}

bool NodeBridge::IsCallable(const std::string& service,
                            const std::string& method) {
  static const std::set<std::string>* const kAllowed =
      new std::set<std::string>{
          "haven.v1.RecordService/FindSubject",
          "haven.v1.RecordService/CreateSubject",
          "haven.v1.RecordService/PutRecord",
          "haven.v1.RecordService/GetRecord",
          "haven.v1.RecordService/ListRecords",
          "haven.v1.ExchangeService/RequestDisclosure",
          "haven.v1.ExchangeService/ListHandles",
          "haven.v1.AdminService/GetStatus",
          "haven.v1.AdminService/ExplainDecision",
          "haven.v1.AdminService/GetPolicy",
          "haven.v1.AuthService/WhoAmI",
      };
  // Every unary method of these two services.
  if (service == "haven.v1.ConsentService" ||
      service == "haven.v1.AuditService") {
    return FindMethod(service, method) != nullptr;
  }
  return kAllowed->count(absl::StrCat(service, "/", method)) > 0 &&
         FindMethod(service, method) != nullptr;
}

NodeAnswer NodeBridge::Call(const std::string& service,
                            const std::string& method,
                            const std::string& request_json,
                            const std::string& session_token) const {
  const pb::MethodDescriptor* m = FindMethod(service, method);
  if (m == nullptr) {
    return Local(grpc::StatusCode::NOT_FOUND, "no such method");
  }
  const pb::Message* prototype =
      pb::MessageFactory::generated_factory()->GetPrototype(m->input_type());
  const pb::Message* response_prototype =
      pb::MessageFactory::generated_factory()->GetPrototype(m->output_type());
  if (prototype == nullptr || response_prototype == nullptr) {
    return Local(grpc::StatusCode::INTERNAL, "no message type");
  }
  std::unique_ptr<pb::Message> request(prototype->New());
  pb::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  const std::string body = request_json.empty() ? "{}" : request_json;
  if (!pb::util::JsonStringToMessage(body, request.get(), parse).ok()) {
    return Local(grpc::StatusCode::INVALID_ARGUMENT,
                 absl::StrCat("the request is not a valid ",
                              m->input_type()->name(), " in JSON"));
  }

  std::string encoded;
  if (!request->SerializeToString(&encoded)) {
    return Local(grpc::StatusCode::INTERNAL, "cannot encode the request");
  }
  grpc::Slice slice(encoded);
  grpc::ByteBuffer request_bytes(&slice, 1);

  std::unique_ptr<grpc::ClientContext> context = connection_->NewContext();
  if (!session_token.empty()) {
    context->AddMetadata("authorization", "Bearer " + session_token);
  }
  grpc::ByteBuffer response_bytes;
  std::promise<grpc::Status> done;
  stub_.UnaryCall(context.get(), absl::StrCat("/", service, "/", method),
                  grpc::StubOptions(), &request_bytes, &response_bytes,
                  [&done](grpc::Status status) { done.set_value(status); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return NodeAnswer{status, ""};

  std::unique_ptr<pb::Message> response(response_prototype->New());
  std::vector<grpc::Slice> slices;
  std::string answer;
  if (response_bytes.Dump(&slices).ok()) {
    for (const grpc::Slice& s : slices) {
      answer.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  if (!response->ParseFromString(answer)) {
    return Local(grpc::StatusCode::INTERNAL,
                 "the node's answer could not be decoded");
  }
  pb::util::JsonPrintOptions print;
  // Zeros, empty strings and false are printed too, so that the pages need
  // not know proto3's defaults.
  print.always_print_primitive_fields = true;
  std::string json;
  if (!pb::util::MessageToJsonString(*response, &json, print).ok()) {
    return Local(grpc::StatusCode::INTERNAL,
                 "the node's answer could not be written as JSON");
  }
  return NodeAnswer{grpc::Status::OK, std::move(json)};
}

}  // namespace haven::client::console

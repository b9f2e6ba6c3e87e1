#include "client/cli/node_call.h"

#include <cstdio>
#include <cstdlib>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace haven::client::cli {

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

void SetStringField(const std::string& field, const std::string& value,
                    google::protobuf::Message* message) {
  const google::protobuf::FieldDescriptor* descriptor =
      message->GetDescriptor()->FindFieldByName(field);
  if (descriptor == nullptr ||
      descriptor->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      descriptor->is_repeated()) {
    std::fprintf(stderr, "havenctl: internal error: no string field %s in %s\n",
                 field.c_str(), message->GetTypeName().c_str());
    std::abort();
  }
  message->GetReflection()->SetString(message, descriptor, value);
}

}  // namespace haven::client::cli

// The one way Haven turns a message into bytes that are signed, hashed or
// compared: protobuf's deterministic serialization (map entries sorted), so
// that the same message always gives the same bytes within this build.
#ifndef HAVEN_BASE_DETERMINISTIC_H_
#define HAVEN_BASE_DETERMINISTIC_H_

#include <string>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message_lite.h"

namespace haven {

inline std::string Deterministic(const google::protobuf::MessageLite& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

}  // namespace haven

#endif  // HAVEN_BASE_DETERMINISTIC_H_

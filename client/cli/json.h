// A minimal JSON object writer for havenctl's --json output (flat objects
// with string, number, boolean, raw-JSON and string-array members).
#ifndef HAVEN_CLIENT_CLI_JSON_H_
#define HAVEN_CLIENT_CLI_JSON_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace haven::client::cli {

// `s` as a JSON string literal, quotes included.
std::string JsonQuote(absl::string_view s);

class JsonObject {
 public:
  JsonObject& Add(absl::string_view key, absl::string_view value);
  JsonObject& Add(absl::string_view key, const char* value) {
    return Add(key, absl::string_view(value));
  }
  JsonObject& Add(absl::string_view key, const std::string& value) {
    return Add(key, absl::string_view(value));
  }
  JsonObject& Add(absl::string_view key, uint64_t value);
  JsonObject& Add(absl::string_view key, int64_t value);
  JsonObject& Add(absl::string_view key, int value) {
    return Add(key, static_cast<int64_t>(value));
  }
  JsonObject& Add(absl::string_view key, bool value);
  JsonObject& Add(absl::string_view key,
                  const std::vector<std::string>& values);
  // `json` must already be valid JSON (an object or array).
  JsonObject& AddRaw(absl::string_view key, absl::string_view json);
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void Key(absl::string_view key);
  std::string body_;
};

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_JSON_H_

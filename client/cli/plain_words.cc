#include "client/cli/plain_words.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace haven::client::cli {

std::string Words(std::string enum_name) {
  absl::AsciiStrToLower(&enum_name);
  return absl::StrReplaceAll(enum_name, {{"_", " "}});
}

std::string JoinAsSentence(std::vector<std::string> words) {
  if (words.size() <= 1) return absl::StrJoin(words, "");
  std::string last = words.back();
  words.pop_back();
  return absl::StrCat(absl::StrJoin(words, ", "), " and ", last);
}

}  // namespace haven::client::cli

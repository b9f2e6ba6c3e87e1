// Enum names as words for people ("LEGAL_REPRESENTATION" -> "legal
// representation") and lists of them as a sentence writes them ("contact,
// identity and immigration"). Used by the texts for survivors (consent
// receipt, plain access report). Pure; thread-safe.
#ifndef HAVEN_CLIENT_CLI_PLAIN_WORDS_H_
#define HAVEN_CLIENT_CLI_PLAIN_WORDS_H_

#include <string>
#include <vector>

namespace haven::client::cli {

// Lower case, underscores as spaces.
std::string Words(std::string enum_name);

// "a", "a and b", "a, b and c"; "" for none.
std::string JoinAsSentence(std::vector<std::string> words);

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_PLAIN_WORDS_H_

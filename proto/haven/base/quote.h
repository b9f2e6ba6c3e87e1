// Double-quoted text for machine-read output (JSON values, the node's event
// log): one escaper, so that no output path forgets a character that could
// end a line, forge a field or hide text from a terminal.
#ifndef HAVEN_BASE_QUOTE_H_
#define HAVEN_BASE_QUOTE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace haven {

// `text` between double quotes, with `"`, `\`, newline, carriage return and
// tab escaped by a backslash, and every other byte for which
// `needs_escape(byte)` holds written by `escape(byte, &out)`.
template <typename NeedsEscape, typename Escape>
std::string Quote(absl::string_view text, NeedsEscape needs_escape,
                  Escape escape) {
  std::string out = "\"";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (needs_escape(byte)) {
          escape(byte, &out);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace haven

#endif  // HAVEN_BASE_QUOTE_H_

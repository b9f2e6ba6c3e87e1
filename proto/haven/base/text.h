// Checks for free text that a caller or a peer sends and the node stores or
// logs (reasons, justifications, names): bounded, valid UTF-8, and without
// control characters, so that it can neither grow the log without bound
// nor forge a line in it.
#ifndef HAVEN_BASE_TEXT_H_
#define HAVEN_BASE_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "haven/base/limits.h"

namespace haven {

// Whether `text` is well-formed UTF-8 with no control characters (C0, DEL,
// C1; tab included).
inline bool IsPlainText(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra = 0;
    uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      extra = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates, beyond Unicode, and C1 controls.
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
        (extra == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// INVALID_ARGUMENT naming `field` unless `text` is plain text of at most
// `max_bytes` bytes (and, if `required`, not empty or only spaces).
inline absl::Status CheckPlainText(absl::string_view text,
                                   absl::string_view field, size_t max_bytes,
                                   bool required) {
  if (text.size() > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " is ", text.size(), " bytes; the limit is ", max_bytes));
  }
  if (!IsPlainText(text)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be UTF-8 text without control characters"));
  }
  if (required && text.find_first_not_of(' ') == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  }
  return absl::OkStatus();
}

// Whether `id` has the form of an id this node makes: exactly
// limits::kNodeIdChars lower-case hex characters.
inline bool IsNodeId(absl::string_view id) {
  if (id.size() != limits::kNodeIdChars) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// INVALID_ARGUMENT naming `field` unless `id` has the form of a node id
// (or, when not `required`, is empty). The id itself is not echoed: a
// caller may have put something there that should not travel further.
inline absl::Status CheckNodeId(absl::string_view id, absl::string_view field,
                                bool required) {
  if (id.empty() && !required) return absl::OkStatus();
  if (IsNodeId(id)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, " must be ", limits::kNodeIdChars, " lower-case hex characters"));
}

// INVALID_ARGUMENT naming `field` if `value` is longer than `max_bytes`:
// for fields that are compared or looked up but never logged as given.
inline absl::Status CheckMaxBytes(absl::string_view value,
                                  absl::string_view field, size_t max_bytes) {
  if (value.size() <= max_bytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, " is ", value.size(), " bytes; the limit is ", max_bytes));
}

}  // namespace haven

#endif  // HAVEN_BASE_TEXT_H_

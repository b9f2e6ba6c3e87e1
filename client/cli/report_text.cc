#include "client/cli/report_text.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/cli/entry_text.h"
#include "client/cli/plain_words.h"

namespace haven::client::cli {

bool IsDecision(const haven::v1::AuditEntry& e) {
  return e.kind() == haven::v1::DISCLOSURE ||
         e.kind() == haven::v1::REQUEST_REFUSED ||
         e.kind() == haven::v1::BREAK_GLASS;
}

namespace {

// "contact and immigration".
std::string CategoryWords(
    const google::protobuf::RepeatedField<int>& categories) {
  std::vector<std::string> words;
  for (const std::string& name : CategoryNames(categories)) {
    words.push_back(Words(name));
  }
  return JoinAsSentence(std::move(words));
}

}  // namespace

std::string Action(const haven::v1::AuditEntry& e) {
  switch (e.kind()) {
    case haven::v1::RECORD_READ:
      return "record read";
    case haven::v1::RECORD_WRITTEN:
      return "record written";
    case haven::v1::SUBJECT_ERASED:
      return "records erased";
    case haven::v1::CONSENT_RECORDED:
      return "consent recorded";
    case haven::v1::CONSENT_AMENDED:
      return "consent amended";
    case haven::v1::CONSENT_PAUSED:
      return "consent paused";
    case haven::v1::CONSENT_RESUMED:
      return "consent resumed";
    case haven::v1::CONSENT_REVOKED:
      return "consent revoked";
    case haven::v1::REFUSAL_RECORDED:
      return "do-not-share recorded";
    case haven::v1::REFUSAL_LIFTED:
      return "do-not-share lifted";
    case haven::v1::HANDLE_ISSUED:
      return "handle issued";
    case haven::v1::HANDLE_WITHDRAWN:
      return "handle withdrawn";
    default:
      return Words(haven::v1::EntryKind_Name(e.kind()));
  }
}

std::string PlainSentence(const haven::v1::AuditEntry& e) {
  const std::string when = absl::FormatTime(
      "On %e %B %Y at %H:%M UTC, ", absl::FromUnixNanos(e.time_unix_nanos()),
      absl::UTCTimeZone());
  const std::string who = e.principal().empty()
                              ? std::string("this agency")
                              : absl::StrCat("staff account ", e.principal());
  const std::string purpose = Words(haven::v1::Purpose_Name(e.purpose()));
  switch (e.kind()) {
    case haven::v1::RECORD_READ:
      return absl::StrCat(when, who, " read your record here.");
    case haven::v1::RECORD_WRITTEN:
      return absl::StrCat(when, who, " added to or changed your record here.");
    case haven::v1::SUBJECT_ERASED:
      return absl::StrCat(when, who, " erased your records here.");
    case haven::v1::CONSENT_RECORDED:
      return absl::StrCat(when, "your consent to share was recorded by ", who,
                          ".");
    case haven::v1::CONSENT_AMENDED:
      return absl::StrCat(when, "your consent was changed by ", who, ".");
    case haven::v1::CONSENT_PAUSED:
      return absl::StrCat(when, "your consent was paused by ", who, ".");
    case haven::v1::CONSENT_RESUMED:
      return absl::StrCat(when, "your consent was resumed by ", who, ".");
    case haven::v1::CONSENT_REVOKED:
      return absl::StrCat(when, "your consent was withdrawn by ", who,
                          "; nothing more is shared under it.");
    case haven::v1::REFUSAL_RECORDED:
      return absl::StrCat(when, "your wish not to share was recorded by ", who,
                          ".");
    case haven::v1::REFUSAL_LIFTED:
      return absl::StrCat(when, "your wish not to share was lifted by ", who,
                          ".");
    case haven::v1::HANDLE_ISSUED:
      return absl::StrCat(when, "agency ", e.detail().substr(3),
                          " was given a reference to ask about you, because "
                          "of your consent.");
    case haven::v1::HANDLE_WITHDRAWN:
      return absl::StrCat(when, "agency ", e.detail().substr(5),
                          " lost its reference to ask about you.");
    case haven::v1::DISCLOSURE: {
      std::string s = absl::StrCat(
          when, "this agency shared your ", CategoryWords(e.given()),
          " information with ", e.agency_id(), " for ", purpose);
      if (e.break_glass()) {
        absl::StrAppend(&s, ", in an emergency, with the reason \"",
                        e.justification(), "\"");
      }
      if (!e.withheld().empty()) {
        absl::StrAppend(&s, "; it did not share the rest they asked for");
      }
      return absl::StrCat(s, ".");
    }
    case haven::v1::REQUEST_REFUSED:
      return absl::StrCat(when, e.agency_id(), " asked for your ",
                          CategoryWords(e.asked()), " information for ",
                          purpose, "; nothing was shared.");
    default:
      return absl::StrCat(when, Action(e), ".");
  }
}

}  // namespace haven::client::cli

#include "policy/loader.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "haven/v1/common.pb.h"

namespace haven::policy {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

// Collects protobuf's text-format syntax errors as "source:line:col: msg".
class CollectingErrors : public google::protobuf::io::ErrorCollector {
 public:
  CollectingErrors(absl::string_view source, absl::string_view content)
      : source_(source), content_(content) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    PointAtBadValue(message, line, column);
    errors_.push_back(
        absl::StrCat(source_, ":", line + 1, ":", column + 1, ": ", message));
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column,
                  const std::string& message) override {
    errors_.push_back(absl::StrCat(source_, ":", line + 1, ":", column + 1,
                                   ": warning: ", message));
  }
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  // Protobuf reports an unknown enum value at the token after it (often the
  // next line). Move the position back to the value itself when it can be
  // found, so the line is the one the author has to fix.
  void PointAtBadValue(const std::string& message, int& line,
                       int& column) const {
    static constexpr absl::string_view kMarker = "value of \"";
    size_t start = message.find(kMarker.data(), 0, kMarker.size());
    if (start == std::string::npos) return;
    start += kMarker.size();
    size_t end = message.find('"', start);
    if (end == std::string::npos || end == start) return;
    const std::string value = message.substr(start, end - start);
    // Offset of (line, column) in the content.
    size_t offset = 0;
    for (int l = 0; l < line && offset < content_.size(); ++l) {
      size_t nl = content_.find('\n', offset);
      if (nl == absl::string_view::npos) return;
      offset = nl + 1;
    }
    offset = std::min(content_.size(), offset + static_cast<size_t>(column));
    size_t found = content_.substr(0, offset).rfind(value);
    if (found == absl::string_view::npos) return;
    int new_line = 0;
    size_t line_start = 0;
    for (size_t i = 0; i < found; ++i) {
      if (content_[i] == '\n') {
        ++new_line;
        line_start = i + 1;
      }
    }
    line = new_line;
    column = static_cast<int>(found - line_start);
  }

  std::string source_;
  absl::string_view content_;
  std::vector<std::string> errors_;
};

// Where to point a reader at for rule `index`, field `field` ("" = the rule).
class Locator {
 public:
  Locator(absl::string_view source, const TextFormat::ParseInfoTree* tree)
      : source_(source), tree_(tree) {}

  std::string Prefix(int rule_index, const char* field_name) const {
    int line = -1;
    if (tree_ != nullptr && rule_index >= 0) {
      const FieldDescriptor* rules =
          haven::v1::SharingPolicy::descriptor()->FindFieldByName("rules");
      const FieldDescriptor* field =
          field_name[0] == '\0'
              ? nullptr
              : haven::v1::Rule::descriptor()->FindFieldByName(field_name);
      const TextFormat::ParseInfoTree* nested =
          tree_->GetTreeForNested(rules, rule_index);
      if (nested != nullptr && field != nullptr) {
        TextFormat::ParseLocation loc =
            nested->GetLocation(field, field->is_repeated() ? 0 : -1);
        line = loc.line;
      }
      if (line < 0) line = tree_->GetLocation(rules, rule_index).line;
    } else if (tree_ != nullptr) {
      const FieldDescriptor* field =
          haven::v1::SharingPolicy::descriptor()->FindFieldByName(field_name);
      if (field != nullptr) line = tree_->GetLocation(field, -1).line;
    }
    if (line >= 0) return absl::StrCat(source_, ":", line + 1, ": ");
    return absl::StrCat(source_, ": ");
  }

 private:
  std::string source_;
  const TextFormat::ParseInfoTree* tree_;
};

std::string RuleLabel(const haven::v1::Rule& rule, int index) {
  if (rule.name().empty()) return absl::StrCat("rules[", index, "]");
  return absl::StrCat("rule '", rule.name(), "'");
}

// True if every (requester, purpose, category) the permit covers is covered
// by some deny rule.
bool FullyShadowed(const haven::v1::Rule& permit,
                   const std::vector<const haven::v1::Rule*>& denies) {
  auto covered = [&](auto matches_requester) {
    for (int p : permit.purposes()) {
      for (int c : permit.categories()) {
        bool hit = false;
        for (const haven::v1::Rule* deny : denies) {
          if (!matches_requester(*deny)) continue;
          bool purpose = false, category = false;
          for (int dp : deny->purposes()) purpose |= dp == p;
          for (int dc : deny->categories()) category |= dc == c;
          if (purpose && category) {
            hit = true;
            break;
          }
        }
        if (!hit) return false;
      }
    }
    return true;
  };
  for (int s : permit.requester().sectors()) {
    if (!covered([s](const haven::v1::Rule& d) {
          for (int ds : d.requester().sectors())
            if (ds == s) return true;
          return false;
        }))
      return false;
  }
  for (const std::string& a : permit.requester().agency_ids()) {
    if (!covered([&a](const haven::v1::Rule& d) {
          for (const std::string& da : d.requester().agency_ids())
            if (da == a) return true;
          return false;
        }))
      return false;
  }
  return true;
}

absl::StatusOr<std::vector<std::string>> Validate(
    const haven::v1::SharingPolicy& policy, const Locator& at) {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  if (policy.agency_id().empty()) {
    errors.push_back(
        absl::StrCat(at.Prefix(-1, "agency_id"), "agency_id: must be set"));
  }
  std::map<std::string, int> seen;
  std::vector<const haven::v1::Rule*> denies;
  for (int i = 0; i < policy.rules_size(); ++i) {
    const haven::v1::Rule& rule = policy.rules(i);
    const std::string label = RuleLabel(rule, i);
    auto error = [&](const char* field, absl::string_view message) {
      errors.push_back(
          absl::StrCat(at.Prefix(i, field), label, ": ", field, ": ", message));
    };
    if (rule.name().empty()) {
      error("name", "must be set");
    } else if (auto [it, inserted] = seen.emplace(rule.name(), i); !inserted) {
      error("name",
            absl::StrCat("duplicates the name of rules[", it->second, "]"));
    }
    if (rule.effect() == haven::v1::RULE_EFFECT_UNSPECIFIED ||
        !haven::v1::RuleEffect_IsValid(rule.effect())) {
      error("effect", "must be PERMIT, DENY or EMERGENCY_PERMIT");
    }
    if (rule.requester().sectors_size() == 0 &&
        rule.requester().agency_ids_size() == 0) {
      error("requester", "must list at least one sector or agency id");
    }
    for (int s : rule.requester().sectors()) {
      if (s == haven::v1::SECTOR_UNSPECIFIED || !haven::v1::Sector_IsValid(s)) {
        error("requester", absl::StrCat("unknown or unspecified sector ", s));
      }
    }
    for (const std::string& a : rule.requester().agency_ids()) {
      if (a.empty()) error("requester", "agency id must not be empty");
    }
    if (rule.purposes_size() == 0)
      error("purposes", "must list at least one purpose");
    for (int p : rule.purposes()) {
      if (p == haven::v1::PURPOSE_UNSPECIFIED ||
          !haven::v1::Purpose_IsValid(p)) {
        error("purposes", absl::StrCat("unknown or unspecified purpose ", p));
      }
    }
    if (rule.categories_size() == 0) {
      error("categories", "must list at least one category");
    }
    for (int c : rule.categories()) {
      if (c == haven::v1::CATEGORY_UNSPECIFIED ||
          !haven::v1::Category_IsValid(c)) {
        error("categories",
              absl::StrCat("unknown or unspecified category ", c));
      }
    }
    if (rule.requires_consent() && rule.effect() != haven::v1::PERMIT) {
      error("requires_consent", "only a PERMIT rule can require consent");
    }
    if (rule.effect() == haven::v1::DENY) denies.push_back(&rule);
  }
  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  }
  for (int i = 0; i < policy.rules_size(); ++i) {
    const haven::v1::Rule& rule = policy.rules(i);
    if (rule.effect() == haven::v1::DENY || denies.empty()) continue;
    if (FullyShadowed(rule, denies)) {
      warnings.push_back(absl::StrCat(at.Prefix(i, ""), RuleLabel(rule, i),
                                      ": warning: fully shadowed by deny "
                                      "rules; it can never allow anything"));
    }
  }
  return warnings;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ValidatePolicy(
    const haven::v1::SharingPolicy& policy, absl::string_view source) {
  return Validate(policy, Locator(source, nullptr));
}

absl::StatusOr<LoadedPolicy> LoadPolicy(absl::string_view content,
                                        PolicyFormat format,
                                        absl::string_view source) {
  LoadedPolicy loaded;
  TextFormat::ParseInfoTree tree;
  const TextFormat::ParseInfoTree* tree_ptr = nullptr;
  if (format == PolicyFormat::kTextProto) {
    CollectingErrors collector(source, content);
    TextFormat::Parser parser;
    parser.RecordErrorsTo(&collector);
    parser.WriteLocationsTo(&tree);
    if (!parser.ParseFromString(std::string(content), &loaded.policy)) {
      std::string message = absl::StrJoin(collector.errors(), "\n");
      if (message.empty()) message = absl::StrCat(source, ": cannot parse");
      return absl::InvalidArgumentError(message);
    }
    tree_ptr = &tree;
  } else {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(content.data(), content.size()),
        &loaded.policy, options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": ", std::string(status.message())));
    }
  }
  auto warnings = Validate(loaded.policy, Locator(source, tree_ptr));
  if (!warnings.ok()) return warnings.status();
  loaded.warnings = *std::move(warnings);
  loaded.version = PolicyVersion(loaded.policy);
  return loaded;
}

PolicyFormat FormatForPath(absl::string_view path) {
  return path.size() >= 5 && path.substr(path.size() - 5) == ".json"
             ? PolicyFormat::kJson
             : PolicyFormat::kTextProto;
}

absl::StatusOr<LoadedPolicy> LoadPolicyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return LoadPolicy(buffer.str(), FormatForPath(path), path);
}

}  // namespace haven::policy

#include "client/cli/args.h"

#include "absl/strings/str_cat.h"

namespace haven::client::cli {

absl::StatusOr<Args> Args::Parse(int argc, const char* const* argv,
                                 const std::set<std::string>& boolean_flags) {
  Args args;
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (only_positional || word.size() < 2 || word.rfind("--", 0) != 0) {
      if (word == "-h") {
        args.flags_["help"] = "";
        continue;
      }
      args.positional_.push_back(word);
      continue;
    }
    if (word == "--") {
      only_positional = true;
      continue;
    }
    std::string name = word.substr(2);
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      args.flags_[name.substr(0, eq)] = name.substr(eq + 1);
      args.all_.emplace_back(name.substr(0, eq), name.substr(eq + 1));
      continue;
    }
    if (boolean_flags.count(name) > 0) {
      args.flags_[name] = "true";
      continue;
    }
    if (i + 1 >= argc) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, " needs a value"));
    }
    args.flags_[name] = argv[++i];
    args.all_.emplace_back(name, argv[i]);
  }
  return args;
}

std::optional<std::string> Args::Get(const std::string& flag) const {
  auto it = flags_.find(flag);
  if (it == flags_.end()) return std::nullopt;
  return it->second;
}

std::string Args::GetOr(const std::string& flag,
                        const std::string& fallback) const {
  auto value = Get(flag);
  return value ? *value : fallback;
}

std::vector<std::string> Args::Unknown(
    const std::set<std::string>& known) const {
  std::vector<std::string> unknown;
  for (const auto& [name, value] : flags_) {
    if (known.count(name) == 0) unknown.push_back(name);
  }
  return unknown;
}

}  // namespace haven::client::cli

namespace haven::client::cli {

std::vector<std::string> Args::GetAll(const std::string& flag) const {
  std::vector<std::string> values;
  for (const auto& [name, value] : all_) {
    if (name == flag) values.push_back(value);
  }
  return values;
}

}  // namespace haven::client::cli

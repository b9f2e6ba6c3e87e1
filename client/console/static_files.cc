#include "client/console/static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace haven::client::console {

namespace {

// Largest file served: the pages are small; anything bigger is a mistake.
constexpr std::uintmax_t kMaxFileBytes = 4 << 20;

const char* ContentTypeFor(const std::string& extension) {
  if (extension == ".html") return "text/html; charset=utf-8";
  if (extension == ".css") return "text/css; charset=utf-8";
  if (extension == ".js") return "text/javascript; charset=utf-8";
  if (extension == ".svg") return "image/svg+xml";
  if (extension == ".png") return "image/png";
  return nullptr;
}

}  // namespace

absl::StatusOr<std::unique_ptr<StaticFiles>> StaticFiles::Load(
    const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path root = fs::canonical(dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read static dir ", dir, ": ", error.message()));
  }
  std::map<std::string, StaticFile> files;
  // Symbolic links are not followed: only what is in the folder is served.
  for (auto it = fs::recursive_directory_iterator(root, error);
       !error && it != fs::recursive_directory_iterator();
       it.increment(error)) {
    if (!it->is_regular_file() || it->is_symlink()) continue;
    const char* type = ContentTypeFor(it->path().extension().string());
    if (type == nullptr) continue;
    if (it->file_size() > kMaxFileBytes) continue;
    std::ifstream in(it->path(), std::ios::binary);
    if (!in) continue;
    std::stringstream content;
    content << in.rdbuf();
    const std::string relative =
        it->path().lexically_relative(root).generic_string();
    files["/" + relative] = StaticFile{content.str(), type};
  }
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read static dir ", dir, ": ", error.message()));
  }
  if (files.count("/index.html") == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("static dir ", dir, " has no index.html"));
  }
  return std::unique_ptr<StaticFiles>(new StaticFiles(std::move(files)));
}

const StaticFile* StaticFiles::Find(const std::string& path) const {
  auto it = files_.find(path == "/" ? "/index.html" : path);
  return it == files_.end() ? nullptr : &it->second;
}

}  // namespace haven::client::console

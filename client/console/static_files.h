// StaticFiles: the console's pages, read once at start from one folder.
// Only regular files with a known extension (.html .css .js .svg .png) are
// served, each with a fixed content type; the set is fixed at start, so a
// request path is only ever looked up in a map (no path traversal, no
// directory listing, no file added later). Thread-safe (immutable).
#ifndef HAVEN_CLIENT_CONSOLE_STATIC_FILES_H_
#define HAVEN_CLIENT_CONSOLE_STATIC_FILES_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace haven::client::console {

struct StaticFile {
  std::string content;
  std::string content_type;
};

class StaticFiles {
 public:
  // FAILED_PRECONDITION if `dir` cannot be read or holds no index.html.
  static absl::StatusOr<std::unique_ptr<StaticFiles>> Load(
      const std::string& dir);

  // The file for a request path ("/" is "/index.html"); nullptr if none.
  const StaticFile* Find(const std::string& path) const;
  size_t size() const { return files_.size(); }

 private:
  explicit StaticFiles(std::map<std::string, StaticFile> files)
      : files_(std::move(files)) {}
  // Keyed by "/relative/path".
  const std::map<std::string, StaticFile> files_;
};

}  // namespace haven::client::console

#endif  // HAVEN_CLIENT_CONSOLE_STATIC_FILES_H_

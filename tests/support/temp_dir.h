// TempDir: a fresh directory under /tmp for one test, removed with everything
// in it when the TempDir is destroyed. Plus small whole-file helpers.
// Thread-compatible.
#pragma once

#include <string>
#include <string_view>

namespace osrc::testing {

class TempDir {
 public:
  // Creates /tmp/<prefix>-XXXXXX (mode 0700). Throws std::system_error if
  // the directory cannot be created.
  explicit TempDir(std::string_view prefix = "osrc-test");
  // Removes the directory recursively; errors are ignored. Set
  // OSRC_KEEP_TEMP=1 in the environment to keep it for post-mortems.
  ~TempDir();

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;

  // The directory's absolute path, without a trailing slash.
  const std::string& path() const { return path_; }
  // path() + "/" + name (nothing is created).
  std::string Path(std::string_view name) const;

 private:
  void Remove();

  std::string path_;
};

// Writes `content` to `path` (created or truncated). Throws std::system_error
// on failure.
void WriteFile(const std::string& path, std::string_view content);
// The whole content of `path`. Throws std::system_error on failure.
std::string ReadFile(const std::string& path);

}  // namespace osrc::testing

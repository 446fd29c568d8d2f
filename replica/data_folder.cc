#include "replica/data_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace osrc::replica {

Status CreateDataFolder(const std::string& dir, std::string_view config_file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(fs::path(dir) / config_file, ec)) {
    return {ErrorCode::kBadInput, "already initialised; refusing to overwrite", dir};
  }
  if (fs::exists(fs::path(dir) / "data.mdb", ec)) {
    return {ErrorCode::kBadInput, "holds a store already; refusing to overwrite", dir};
  }
  fs::create_directories(dir, ec);
  if (ec) return {ErrorCode::kIo, "cannot create folder: " + ec.message(), dir};
  if (::chmod(dir.c_str(), 0700) != 0) return {ErrorCode::kIo, "cannot set mode 0700", dir};
  return {};
}

Status WriteFileDurably(const std::string& dir, std::string_view name, const std::string& content) {
  std::string path = dir + "/" + std::string(name);
  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return {ErrorCode::kIo, "cannot create file", temp};
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return {ErrorCode::kIo, "cannot write file", path};
  }
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // the rename itself survives a power cut
    ::close(dir_fd);
  }
  return {};
}

Status ResolveDataDir(const std::string& flag, std::string* dir) {
  if (!flag.empty()) {
    *dir = flag;
    return {};
  }
  const char* env = std::getenv("OSRC_DATA");
  if (env == nullptr || *env == '\0') {
    return {ErrorCode::kBadInput, "no data folder: pass --data DIR or set OSRC_DATA"};
  }
  *dir = env;
  return {};
}

Status CopyLockedFile(const std::string& from_dir, const std::string& to_dir, std::string_view name,
                      std::string_view what) {
  std::string path = from_dir + "/" + std::string(name);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  ::flock(fd, LOCK_SH);  // appends wait
  std::string text;
  char buffer[65536];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  ::close(fd);
  if (n < 0) return {ErrorCode::kIo, "cannot read the " + std::string(what), path};
  return WriteFileDurably(to_dir, name, text);
}

}  // namespace osrc::replica

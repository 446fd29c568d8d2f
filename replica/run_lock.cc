#include "replica/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace osrc::replica {

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);
}

Status RunLock::Acquire(const std::string& dir) {
  std::string path = dir + "/run.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return {ErrorCode::kIo, "cannot open lock file", path};
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    fd_ = -1;
    return {ErrorCode::kBadInput, "a daemon is running on this data folder; stop it first", dir};
  }
  return {};
}

}  // namespace osrc::replica

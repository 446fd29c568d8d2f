#include "replica/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

namespace osrc::replica {

bool DaemonRunning(const std::string& dir) {
  std::string path = dir + "/run.lock";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  // A shared lock held for an instant: a daemon starting in that instant would be refused, so
  // Acquire below retries briefly.
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);
}

Status RunLock::Acquire(const std::string& dir) {
  std::string path = dir + "/run.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return {ErrorCode::kIo, "cannot open lock file", path};
  bool locked = false;
  for (int attempt = 0; attempt < 3 && !locked; ++attempt) {
    if (attempt > 0) ::usleep(20 * 1000);  // a status probe holds it for microseconds
    locked = ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
  }
  if (!locked) {
    ::close(fd_);
    fd_ = -1;
    return {ErrorCode::kBadInput, "a daemon is running on this data folder; stop it first", dir};
  }
  return {};
}

}  // namespace osrc::replica

// The run lock of a data folder: held by a running daemon (flock on `run.lock`), so a second
// daemon or a restore refuses to start beside it. Released when the holder exits.
#pragma once

#include <string>

#include "base/error.h"

namespace osrc::replica {

// Whether a daemon holds the run lock of `dir` now (a status report's "online" needs one).
bool DaemonRunning(const std::string& dir);

class RunLock {
 public:
  RunLock() = default;
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  // Takes the lock of `dir`; an error naming the folder if another process holds it.
  Status Acquire(const std::string& dir);

 private:
  int fd_ = -1;
};

}  // namespace osrc::replica

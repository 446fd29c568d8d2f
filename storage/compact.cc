#include "storage/compact.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>

namespace osrc::storage {
namespace {

namespace fs = std::filesystem;

// A descriptor of `dir`'s lock.mdb, opened once per process and never closed: closing any
// descriptor of the file would drop LMDB's own fcntl locks on it too. -1 if it cannot be opened.
int LockFile(const std::string& dir) {
  static std::mutex mutex;
  static std::map<std::string, int> open;
  std::lock_guard guard(mutex);
  auto it = open.find(dir);
  if (it != open.end()) return it->second;
  int fd = ::open((fs::path(dir) / "lock.mdb").c_str(), O_RDWR | O_CLOEXEC);
  if (fd >= 0) open[dir] = fd;
  return fd;
}

// Byte 0 of lock.mdb, where LMDB keeps a shared fcntl lock while a process has the store open.
struct flock ByteZero(short type) {
  struct flock lock = {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 1;
  return lock;
}

// A new opener waits for a shared lock on byte 0: an exclusive one here means no other process
// has the store open, and none opens it until this process closes the store (which releases
// every fcntl lock it holds on the file).
bool LockAlone(const std::string& dir) {
  int fd = LockFile(dir);
  struct flock lock = ByteZero(F_WRLCK);
  return fd >= 0 && ::fcntl(fd, F_SETLK, &lock) == 0;
}

void SyncPath(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) throw Error(ErrorCode::kIo, "cannot open " + path.string() + " to sync it");
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw Error(ErrorCode::kIo, "cannot sync " + path.string());
}

}  // namespace

bool CompactionDue(const std::string& dir, Store& store) {
  {
    ReadTxn txn(store.env());
    if (!store.GetMeta(txn, kMetaCompactPending)) return false;
  }
  int fd = LockFile(dir);
  struct flock probe = ByteZero(F_WRLCK);
  // This process's own locks never conflict: F_UNLCK means no other process holds one.
  return fd >= 0 && ::fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type == F_UNLCK;
}

CompactOutcome CompactIfPending(const std::string& dir, Store& store, CompactStats* stats) {
  {
    ReadTxn txn(store.env());
    if (!store.GetMeta(txn, kMetaCompactPending)) return CompactOutcome::kNotPending;
  }
  if (!LockAlone(dir)) return CompactOutcome::kBusy;
  auto start = std::chrono::steady_clock::now();
  fs::path data = fs::path(dir) / "data.mdb";
  fs::path temp = fs::path(dir) / "compacting";
  std::error_code ec;
  size_t before = fs::file_size(data, ec);
  fs::remove_all(temp, ec);
  fs::create_directory(temp, ec);
  if (ec) throw Error(ErrorCode::kIo, "cannot create " + temp.string() + ": " + ec.message());
  {
    WriteTxn txn(store.env());
    txn.Del(store.meta(), kMetaCompactPending);
    txn.Commit();
  }
  try {
    store.env().CopyTo(temp.string());  // live pages only
    SyncPath(temp / "data.mdb", false);
    fs::rename(temp / "data.mdb", data, ec);
    if (ec) throw Error(ErrorCode::kIo, "cannot replace " + data.string() + ": " + ec.message());
    SyncPath(dir, true);
  } catch (const Error&) {
    WriteTxn txn(store.env());
    store.PutMeta(txn, kMetaCompactPending, "");
    txn.Commit();
    fs::remove_all(temp, ec);
    throw;
  }
  fs::remove_all(temp, ec);
  if (stats != nullptr) {
    stats->bytes_before = before;
    stats->bytes_after = fs::file_size(data, ec);
    stats->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return CompactOutcome::kCompacted;
}

}  // namespace osrc::storage

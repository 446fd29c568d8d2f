// A thin RAII layer over the LMDB C API: Env, ReadTxn, WriteTxn, Dbi and Cursor.
// One Env per path per process. A value read is valid only until its transaction ends or the
// next write in it. LMDB return codes are translated here: not-found is a value, everything
// else throws osrc::Error. Env is thread-safe; transactions belong to one thread.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace osrc::storage {

struct EnvOptions {
  size_t map_size = size_t{1} << 30;       // Default: 1 GiB; grown on demand if grow_step > 0
  size_t grow_step = size_t{1} << 30;      // Default: 1 GiB; 0: never grow
  size_t max_map_size = size_t{64} << 30;  // Default: 64 GiB
  unsigned max_dbs = 16;                   // Default: 16
  unsigned max_readers = 256;              // Default: 256
  bool durable = true;                     // Default: fsync at commit
};

using Dbi = MDB_dbi;

// Throws osrc::Error for an LMDB failure `rc` during `what`.
[[noreturn]] void ThrowLmdb(int rc, std::string_view what);

class Env {
 public:
  // Opens (creating if needed) the LMDB environment in folder `path`.
  Env(const std::string& path, const EnvOptions& options);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  // Opens (creating) a named database in its own committed transaction.
  Dbi OpenDbi(const char* name);
  MDB_env* raw() const { return env_; }
  const EnvOptions& options() const { return options_; }
  // Bytes of the map in use and its size.
  size_t used_bytes() const;
  size_t map_size() const;
  // Grows the map by grow_step; false if not allowed or already at max. REQUIRES: no open txn in
  // this process.
  bool Grow();
  // Copies a consistent snapshot to folder `to` (must exist, empty).
  void CopyTo(const std::string& to);

 private:
  MDB_env* env_ = nullptr;
  EnvOptions options_;
};

// Runs `write` (which opens and commits its own write transaction); when the map is full, grows
// it by grow_step if allowed and runs `write` again. REQUIRES: no other transaction of this
// process is open (LMDB resizes only then).
template <typename Fn>
auto WithGrowth(Env& env, Fn&& write) {
  while (true) {
    try {
      return write();
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kMapFull || !env.Grow()) throw;
    }
  }
}

inline MDB_val ToVal(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
inline std::string_view FromVal(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

class Txn {
 public:
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  MDB_txn* raw() const { return txn_; }
  // The value lives until the transaction ends or the next write.
  std::optional<std::string_view> Get(Dbi dbi, std::string_view key) const;
  size_t Count(Dbi dbi) const;

 protected:
  Txn(Env& env, unsigned flags);
  ~Txn();
  MDB_txn* txn_ = nullptr;
};

class ReadTxn : public Txn {
 public:
  explicit ReadTxn(Env& env) : Txn(env, MDB_RDONLY) {}
};

class WriteTxn : public Txn {
 public:
  explicit WriteTxn(Env& env) : Txn(env, 0) {}
  void Put(Dbi dbi, std::string_view key, std::string_view value, unsigned flags = 0);
  // False if the key was absent.
  bool Del(Dbi dbi, std::string_view key);
  // Durable when it returns (unless EnvOptions::durable is off).
  void Commit();
  void Abort();
};

// Iterates one database in key order. Borrows the transaction; destroy before Commit().
class Cursor {
 public:
  Cursor(const Txn& txn, Dbi dbi);
  ~Cursor();
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  // Positions at the first key >= `key`. False at the end.
  bool Seek(std::string_view key);
  bool First();
  bool Last();
  bool Next();
  bool Prev();
  std::string_view key() const { return FromVal(key_); }
  std::string_view value() const { return FromVal(value_); }

 private:
  bool Op(MDB_cursor_op op);
  MDB_cursor* cursor_ = nullptr;
  MDB_val key_{}, value_{};
};

}  // namespace osrc::storage

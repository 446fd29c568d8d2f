#include "storage/env.h"

#include <sys/stat.h>

namespace osrc::storage {

void ThrowLmdb(int rc, std::string_view what) {
  ErrorCode code = ErrorCode::kIo;
  if (rc == MDB_MAP_FULL) code = ErrorCode::kMapFull;
  if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID) {
    code = ErrorCode::kCorruption;
  }
  std::string message = std::string(what) + ": " + mdb_strerror(rc);
  if (rc == MDB_MAP_FULL) message = "store full (raise [store] map_size_mb or grow_mb)";
  throw Error(code, message);
}

Env::Env(const std::string& path, const EnvOptions& options) : options_(options) {
  int rc = mdb_env_create(&env_);
  if (rc != 0) ThrowLmdb(rc, "create store");
  const char* step = "set store map size";
  rc = mdb_env_set_mapsize(env_, options.map_size);
  if (rc == 0) {
    step = "set store database count";
    rc = mdb_env_set_maxdbs(env_, options.max_dbs);
  }
  if (rc == 0) {
    step = "set store reader count";
    rc = mdb_env_set_maxreaders(env_, options.max_readers);
  }
  unsigned flags = MDB_NOTLS;
  if (!options.durable) flags |= MDB_NOSYNC;
  if (rc == 0) {
    step = "open store";
    rc = mdb_env_open(env_, path.c_str(), flags, 0600);
  }
  if (rc != 0) {
    mdb_env_close(env_);
    env_ = nullptr;
    ThrowLmdb(rc, std::string(step) + " " + path);
  }
}

Env::~Env() {
  if (env_ != nullptr) mdb_env_close(env_);
}

Dbi Env::OpenDbi(const char* name) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (rc != 0) ThrowLmdb(rc, "begin");
  Dbi dbi = 0;
  rc = mdb_dbi_open(txn, name, MDB_CREATE, &dbi);
  if (rc != 0) {
    mdb_txn_abort(txn);
    ThrowLmdb(rc, std::string("open database ") + name);
  }
  rc = mdb_txn_commit(txn);
  if (rc != 0) ThrowLmdb(rc, "commit");
  return dbi;
}

size_t Env::used_bytes() const {
  MDB_envinfo info;
  MDB_stat stat;
  int rc = mdb_env_info(env_, &info);
  if (rc == 0) rc = mdb_env_stat(env_, &stat);
  if (rc != 0) ThrowLmdb(rc, "read store use");
  return (info.me_last_pgno + 1) * static_cast<size_t>(stat.ms_psize);
}

size_t Env::map_size() const {
  MDB_envinfo info;
  int rc = mdb_env_info(env_, &info);
  if (rc != 0) ThrowLmdb(rc, "read store map size");
  return info.me_mapsize;
}

bool Env::Grow() {
  if (options_.grow_step == 0) return false;
  size_t current = map_size();
  if (current >= options_.max_map_size) return false;
  size_t next = std::min(current + options_.grow_step, options_.max_map_size);
  int rc = mdb_env_set_mapsize(env_, next);
  if (rc != 0) ThrowLmdb(rc, "grow store");
  return true;
}

void Env::CopyTo(const std::string& to) {
  int rc = mdb_env_copy2(env_, to.c_str(), MDB_CP_COMPACT);
  if (rc != 0) ThrowLmdb(rc, "copy store to " + to);
}

Txn::Txn(Env& env, unsigned flags) {
  int rc = mdb_txn_begin(env.raw(), nullptr, flags, &txn_);
  if (rc == MDB_MAP_RESIZED) {
    // Another process grew the map: adopt its size and retry once.
    rc = mdb_env_set_mapsize(env.raw(), 0);
    if (rc != 0) ThrowLmdb(rc, "adopt the store's grown map size");
    rc = mdb_txn_begin(env.raw(), nullptr, flags, &txn_);
  }
  if (rc != 0) ThrowLmdb(rc, "begin transaction");
}

Txn::~Txn() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
}

std::optional<std::string_view> Txn::Get(Dbi dbi, std::string_view key) const {
  MDB_val k = ToVal(key), v;
  int rc = mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  if (rc != 0) ThrowLmdb(rc, "get");
  return FromVal(v);
}

size_t Txn::Count(Dbi dbi) const {
  MDB_stat stat;
  int rc = mdb_stat(txn_, dbi, &stat);
  if (rc != 0) ThrowLmdb(rc, "stat");
  return stat.ms_entries;
}

void WriteTxn::Put(Dbi dbi, std::string_view key, std::string_view value, unsigned flags) {
  MDB_val k = ToVal(key), v = ToVal(value);
  int rc = mdb_put(txn_, dbi, &k, &v, flags);
  if (rc != 0) ThrowLmdb(rc, "put");
}

bool WriteTxn::Del(Dbi dbi, std::string_view key) {
  MDB_val k = ToVal(key);
  int rc = mdb_del(txn_, dbi, &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != 0) ThrowLmdb(rc, "delete");
  return true;
}

void WriteTxn::Commit() {
  MDB_txn* txn = txn_;
  txn_ = nullptr;
  int rc = mdb_txn_commit(txn);
  if (rc != 0) ThrowLmdb(rc, "commit");
}

void WriteTxn::Abort() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
  txn_ = nullptr;
}

Cursor::Cursor(const Txn& txn, Dbi dbi) {
  int rc = mdb_cursor_open(txn.raw(), dbi, &cursor_);
  if (rc != 0) ThrowLmdb(rc, "open cursor");
}

Cursor::~Cursor() { mdb_cursor_close(cursor_); }

bool Cursor::Op(MDB_cursor_op op) {
  int rc = mdb_cursor_get(cursor_, &key_, &value_, op);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != 0) ThrowLmdb(rc, "cursor");
  return true;
}

bool Cursor::Seek(std::string_view key) {
  if (key.empty()) return First();  // LMDB refuses an empty key (MDB_BAD_VALSIZE)
  key_ = ToVal(key);
  return Op(MDB_SET_RANGE);
}
bool Cursor::First() { return Op(MDB_FIRST); }
bool Cursor::Last() { return Op(MDB_LAST); }
bool Cursor::Next() { return Op(MDB_NEXT); }
bool Cursor::Prev() { return Op(MDB_PREV); }

}  // namespace osrc::storage

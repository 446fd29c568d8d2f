// Store: the LMDB store of one data folder (site node or hub) and the layouts of its databases.
// Thread-safe as Env is; each method works inside the caller's transaction.
//
// Databases and their key -> value grammars:
//   records   collection 0x00 id                 -> EncodeRecordState
//   log       be64(seq) | be64(last seq) 'B'     -> Change wire bytes | a block of them
//                                                   (this replica's own writes: change_log.h)
//   meta      name                               -> bytes (storage/meta.h)
//   conflicts collection 0x00 id 0x00 field 0x00 be64(loser stamp) loser-origin
//                                                -> EncodeConflict
//   deliver   dest 0x00 be64(seq)                -> "" (hub: log entries a site receives;
//                                                   dest "*" is every site)
//   sites     site code                          -> hub's enrolment of that site
//   returns   0x01 be64(hub seq) | 0x02 be64(n)  -> seal(16) Change wire bytes (node: hub changes
//                                                   kept from this epoch | owed to a restored hub)
//   feed      be64(feed seq)                     -> records key
//   feedpos   records key                        -> be64(feed seq)
//   received  site 0x00 be64(hour)               -> be64 changes (hub: hub/received.h)
//   counts    collection 0x00 id prefix          -> be64 live records (id prefix: the id up to
//                                                   its first '-', a site record's site code;
//                                                   empty for an id without '-')
// The feed lists every record a merge changed (Apply, ApplyTo), in the order of those merges,
// each record once at the position of its latest change (the older entry is removed): readers
// such as the PostgreSQL mirror follow it by feed seq. It is written in the merge's transaction,
// only in stores that keep one (meta kMetaFeed): a hub's once a mirror has run, never a node's. A
// store opened with Feed::kKeep for the first time starts its feed with every record held, in key
// order, a chunk of records per transaction (a running hub's writer waits for one chunk at most,
// and an interrupted start resumes where it stopped); a store opened without it (a running hub)
// looks for kMetaFeed in each write transaction until it finds it, as another process (the
// mirror) may start the feed meanwhile.
// The counts follow every merge and erasure in its transaction, so `status` reads them instead of
// scanning the records.
//
// The format of record states and conflicts (kStoreFormat, record_state.h) is kept in meta
// (kMetaFormat; absent: 1). Opening a store of an older format migrates it in one write
// transaction; a newer one is refused.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "storage/change_log.h"
#include "storage/env.h"
#include "storage/merge.h"
#include "storage/meta.h"
#include "storage/record_state.h"
#include "storage/table.h"

namespace osrc::storage {

std::string RecordKey(std::string_view collection, std::string_view id);
// Splits a records key; false if malformed.
bool SplitRecordKey(std::string_view key, std::string_view* collection, std::string_view* id);

struct StoredConflict {
  std::string collection;
  std::string id;
  Conflict conflict;
};

class Store {
 public:
  // Opens the store in folder `dir`, creating it in the current format, or migrating one of an
  // older format. Throws osrc::Error(kVersion) for a store of a newer format.
  enum class Feed { kNone, kKeep };
  Store(const std::string& dir, const EnvOptions& options, Feed feed = Feed::kNone);
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  Env& env() { return env_; }

  // Records.
  std::optional<RecordState> GetRecord(const Txn& txn, std::string_view collection,
                                       std::string_view id) const;
  // Whether the record is live; nullopt if the store holds no state of it. Decodes no more of
  // the state than that takes.
  std::optional<bool> RecordLive(const Txn& txn, std::string_view collection,
                                 std::string_view id) const;
  // Merges `change` into its record and keeps its conflicts. Does not touch the log.
  MergeResult Apply(WriteTxn& txn, const protocol::Change& change);
  // As Apply, with the record's current `state` already read in this transaction; updates it.
  MergeResult ApplyTo(WriteTxn& txn, const protocol::Change& change, RecordState* state);
  // Erased records (an erasure order, protocol::Change::erased): a tombstone without values, and
  // no later write merges into them.
  bool IsErased(const Txn& txn, std::string_view collection, std::string_view id) const;
  // Calls `visit` for each live record of `collection` (all if empty) in key order.
  void ForEachRecord(const Txn& txn, std::string_view collection,
                     const std::function<void(std::string_view collection, std::string_view id,
                                              const RecordState&)>& visit) const;
  // As above, for the records of `collection` whose id starts with `id_prefix` (one key range).
  // REQUIRES: `collection` is not empty.
  void ForEachRecord(const Txn& txn, std::string_view collection, std::string_view id_prefix,
                     const std::function<void(std::string_view collection, std::string_view id,
                                              const RecordState&)>& visit) const;

  // Live records per collection and id prefix (see counts above), in key order.
  void ForEachCount(
      const Txn& txn,
      const std::function<void(std::string_view collection, std::string_view id_prefix,
                               uint64_t count)>& visit) const;

  // The feed: calls `visit` for up to `limit` entries after feed seq `after`, in order.
  void ForEachFeed(const Txn& txn, uint64_t after, size_t limit,
                   const std::function<void(uint64_t seq, std::string_view collection,
                                            std::string_view id)>& visit) const;
  uint64_t FeedHead(const Txn& txn) const;
  bool keeps_feed() const { return keeps_feed_.load(); }

  // This replica's change log (change_log.h).
  const ChangeLog& log() const { return log_; }
  void AppendLog(WriteTxn& txn, uint64_t seq, std::string_view change_bytes) {
    log_.Append(txn, seq, change_bytes);
  }
  uint64_t LogHead(const Txn& txn) const { return log_.Head(txn); }
  std::optional<std::string> GetLog(const Txn& txn, uint64_t seq) const {
    return log_.Get(txn, seq);
  }
  void ForEachLog(const Txn& txn, uint64_t first,
                  const std::function<bool(uint64_t, std::string_view)>& visit) const {
    log_.ForEach(txn, first, visit);
  }

  // Conflicts.
  size_t ConflictCount(const Txn& txn) const;
  void ForEachConflict(const Txn& txn,
                       const std::function<void(const StoredConflict&)>& visit) const;

  // Meta.
  std::optional<std::string_view> GetMeta(const Txn& txn, std::string_view name) const;
  uint64_t GetMetaU64(const Txn& txn, std::string_view name, uint64_t fallback = 0) const;
  void PutMeta(WriteTxn& txn, std::string_view name, std::string_view value);
  void PutMetaU64(WriteTxn& txn, std::string_view name, uint64_t value);

  Dbi records() const { return records_; }
  Dbi meta() const { return meta_; }
  Dbi conflicts() const { return conflicts_; }
  // Tables whose layouts their users own (see the grammars above).
  Table deliver() const { return Table(deliver_); }
  Table sites() const { return Table(sites_); }
  Table returns() const { return Table(returns_); }
  Table received() const { return Table(received_); }

 private:
  void PutConflict(WriteTxn& txn, const protocol::Change& change, const Conflict& conflict);
  // Moves record `key` to the end of the feed.
  // `listed`: whether the record may have an entry already (false for one records never held).
  void AppendFeed(WriteTxn& txn, std::string_view key, bool listed = true);
  // Adds `delta` (+1 or -1) to the live count of `id`'s collection and prefix.
  void AddToCount(WriteTxn& txn, std::string_view collection, std::string_view id, int delta);
  // Counts every live record afresh (a store migrated from format 3).
  void RecountAll(WriteTxn& txn);
  // Applies erasure order `erase`: the record becomes a tombstone holding only its stamp; its
  // conflicts and the values of its log entries (which keep sequence and stamp and become
  // erasures themselves) and kept returns are dropped. Cost: one scan of the log and returns.
  void Erase(WriteTxn& txn, const protocol::Change& erase, RecordState* state);
  uint32_t Format(const Txn& txn) const;
  void OpenFormat();
  // Re-encodes every record state and conflict of store format `from` in the current one.
  void Migrate(WriteTxn& txn, uint32_t from);
  // Turns the feed on (kMetaFeed) if `feed` asks for it, starting it with every record.
  void OpenFeed(Feed feed);
  // Lists the next chunk of records in the feed, turning it on first; false once all are listed.
  bool ListFeedChunk();
  // Whether merges in `txn` list records in the feed (see the file comment).
  bool KeepsFeed(const WriteTxn& txn);

  Env env_;
  Dbi records_;
  ChangeLog log_;
  Dbi meta_, conflicts_, deliver_, sites_, returns_, feed_, feedpos_, counts_, received_;
  std::atomic<bool> keeps_feed_ = false;
  // The write transaction (handle and id) last found without kMetaFeed.
  MDB_txn* feedless_txn_ = nullptr;
  size_t feedless_txn_id_ = 0;
};

}  // namespace osrc::storage

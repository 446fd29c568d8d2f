#include "storage/store.h"

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "storage/varint.h"

namespace osrc::storage {
namespace {

// conflict := winner-version winner_deleted:u8 winner-value loser-version loser-value
//             (version and value as in record_state.h)
std::string EncodeConflict(const Conflict& c) {
  std::string out;
  AppendVersion(&out, c.winner);
  out.push_back(c.winner_deleted ? 1 : 0);
  AppendValue(&out, c.winner_value);
  AppendVersion(&out, c.loser);
  AppendValue(&out, c.loser_value);
  return out;
}

Conflict DecodeConflict(std::string_view in, uint32_t format = kStoreFormat) {
  Conflict c;
  bool ok = ReadVersion(&in, &c.winner, format) && !in.empty();
  if (ok) {
    c.winner_deleted = in.front() == 1;
    in.remove_prefix(1);
    ok = ReadValue(&in, &c.winner_value) && ReadVersion(&in, &c.loser, format) &&
         ReadValue(&in, &c.loser_value) && in.empty();
  }
  if (!ok) throw Error(ErrorCode::kCorruption, "malformed conflict in store");
  return c;
}

// Rewrites every value of `dbi` with `recode`, in chunks so no cursor is open during a write.
template <typename Fn>
void RecodeAll(WriteTxn& txn, Dbi dbi, Fn&& recode) {
  constexpr size_t kChunk = 4096;
  std::string after;  // last key rewritten
  bool started = false;
  while (true) {
    std::vector<std::pair<std::string, std::string>> chunk;
    {
      Cursor cursor(txn, dbi);
      bool more = started ? cursor.Seek(after) : cursor.First();
      if (more && started && cursor.key() == after) more = cursor.Next();
      for (; more && chunk.size() < kChunk; more = cursor.Next()) {
        chunk.emplace_back(cursor.key(), recode(cursor.value()));
      }
    }
    if (chunk.empty()) return;
    for (const auto& [key, value] : chunk) txn.Put(dbi, key, value);
    after = chunk.back().first;
    started = true;
  }
}

std::string CountKey(std::string_view collection, std::string_view id) {
  size_t dash = id.find('-');
  return RecordKey(collection, dash == std::string_view::npos ? "" : id.substr(0, dash));
}

std::string ProgramOf(std::optional<std::string_view> kind) {
  return kind && !kind->empty() ? "osrc-" + std::string(*kind) : std::string("osrc");
}

}  // namespace

std::string RecordKey(std::string_view collection, std::string_view id) {
  std::string key;
  key.reserve(collection.size() + 1 + id.size());
  key.append(collection);
  key.push_back('\0');
  key.append(id);
  return key;
}

bool SplitRecordKey(std::string_view key, std::string_view* collection, std::string_view* id) {
  size_t zero = key.find('\0');
  if (zero == std::string_view::npos) return false;
  *collection = key.substr(0, zero);
  *id = key.substr(zero + 1);
  return true;
}

Store::Store(const std::string& dir, const EnvOptions& options, Feed feed)
    : env_(dir, options),
      records_(env_.OpenDbi("records")),
      log_(env_.OpenDbi("log")),
      meta_(env_.OpenDbi("meta")),
      conflicts_(env_.OpenDbi("conflicts")),
      deliver_(env_.OpenDbi("deliver")),
      sites_(env_.OpenDbi("sites")),
      returns_(env_.OpenDbi("returns")),
      feed_(env_.OpenDbi("feed")),
      feedpos_(env_.OpenDbi("feedpos")),
      counts_(env_.OpenDbi("counts")),
      received_(env_.OpenDbi("received")) {
  OpenFormat();
  OpenFeed(feed);
}

bool Store::KeepsFeed(const WriteTxn& txn) {
  if (keeps_feed_.load()) return true;
  // An aborted transaction's id comes again, but only with no commit in between.
  size_t id = mdb_txn_id(txn.raw());
  if (txn.raw() == feedless_txn_ && id == feedless_txn_id_) return false;
  if (GetMeta(txn, kMetaFeed).has_value()) {
    keeps_feed_.store(true);
    return true;
  }
  feedless_txn_ = txn.raw();
  feedless_txn_id_ = id;
  return false;
}

void Store::OpenFeed(Feed feed) {
  bool listed;
  {
    ReadTxn txn(env_);
    keeps_feed_ = GetMeta(txn, kMetaFeed).has_value();
    listed = keeps_feed_ && !GetMeta(txn, kMetaFeedFrom).has_value();
  }
  if (listed || feed == Feed::kNone) return;
  while (ListFeedChunk()) {
  }
  keeps_feed_ = true;
}

bool Store::ListFeedChunk() {
  constexpr size_t kChunkRecords = 20000;
  bool more = false;
  WithGrowth(env_, [&] {
    more = false;
    WriteTxn txn(env_);
    std::string from;
    if (txn.Get(meta_, kMetaFeed)) {  // started, here or by another process
      auto next = txn.Get(meta_, kMetaFeedFrom);
      if (!next) return;
      from = std::string(*next);
    }
    std::vector<std::string> keys;
    {
      Cursor cursor(txn, records_);
      bool found = from.empty() ? cursor.First() : cursor.Seek(from);
      for (; found && keys.size() <= kChunkRecords; found = cursor.Next()) {
        keys.emplace_back(cursor.key());
      }
    }
    more = keys.size() > kChunkRecords;
    if (more) {
      txn.Put(meta_, kMetaFeedFrom, keys.back());
      keys.pop_back();
    } else {
      txn.Del(meta_, kMetaFeedFrom);
    }
    for (const std::string& key : keys) AppendFeed(txn, key);
    txn.Put(meta_, kMetaFeed, "1");
    txn.Commit();
  });
  return more;
}

uint32_t Store::Format(const Txn& txn) const {
  auto value = txn.Get(meta_, kMetaFormat);
  if (!value) return 1;
  if (value->size() != 8) throw Error(ErrorCode::kCorruption, "malformed store format in meta");
  uint64_t format = ReadBigEndian64(*value);
  return format > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(format);
}

void Store::OpenFormat() {
  uint32_t format;
  std::string program;
  {
    ReadTxn txn(env_);
    format = Format(txn);
    program = ProgramOf(GetMeta(txn, kMetaKind));
  }
  if (format == kStoreFormat) return;
  if (format > kStoreFormat) {
    throw Error(ErrorCode::kVersion, "store format " + std::to_string(format) +
                                         " is newer than this " + program + " supports (" +
                                         std::to_string(kStoreFormat) + "): upgrade " + program);
  }
  WithGrowth(env_, [&] {
    WriteTxn txn(env_);
    uint32_t from = Format(txn);  // another process may have migrated it meanwhile
    if (from < kStoreFormat) Migrate(txn, from);
    txn.Commit();
  });
}

void Store::Migrate(WriteTxn& txn, uint32_t from) {
  // Format 1 -> 2: bases gain an origin, unknown (empty) for what was written before.
  // Format 4 -> 5: fields share their record's common version.
  if (from < 5) {
    RecodeAll(txn, records_, [&](std::string_view bytes) {
      return EncodeRecordState(DecodeRecordState(bytes, from));
    });
  }
  if (from < 2) {
    RecodeAll(txn, conflicts_,
              [&](std::string_view bytes) { return EncodeConflict(DecodeConflict(bytes, from)); });
  }
  // Format 2 -> 3: nothing to re-encode. Format 3 stores may keep a feed (OpenFeed), which
  // builds of format 2 would not write: they refuse the store instead.
  // Format 3 -> 4: live counts, which builds of format 3 would not keep.
  if (from < 4) RecountAll(txn);
  // Format 5 -> 6: the change log keeps full blocks compressed (change_log.h).
  log_.SealFullBlocks(txn);
  PutMetaU64(txn, kMetaFormat, kStoreFormat);
}

std::optional<RecordState> Store::GetRecord(const Txn& txn, std::string_view collection,
                                            std::string_view id) const {
  auto bytes = txn.Get(records_, RecordKey(collection, id));
  if (!bytes) return std::nullopt;
  return DecodeRecordState(*bytes);
}

std::optional<bool> Store::RecordLive(const Txn& txn, std::string_view collection,
                                      std::string_view id) const {
  auto bytes = txn.Get(records_, RecordKey(collection, id));
  if (!bytes) return std::nullopt;
  return RecordStateLive(*bytes);
}

MergeResult Store::Apply(WriteTxn& txn, const protocol::Change& change) {
  std::string key = RecordKey(change.collection, change.id);
  RecordState state;
  if (auto bytes = txn.Get(records_, key)) {
    state = DecodeRecordState(*bytes);
  } else if (auto fresh = EncodeNewRecordState(change)) {
    // A record the store never held (most of a first sync): nothing to merge against.
    txn.Put(records_, key, *fresh);
    if (KeepsFeed(txn)) AppendFeed(txn, key, false);
    AddToCount(txn, change.collection, change.id, 1);
    MergeResult result;
    result.changed = true;
    return result;
  }
  return ApplyTo(txn, change, &state);
}

MergeResult Store::ApplyTo(WriteTxn& txn, const protocol::Change& change, RecordState* state) {
  bool was_live = state->live();
  // Only a tombstone without fields can be erased: skips the lookup for every other record.
  bool maybe_erased = state->tombstone && state->fields.empty();
  if (maybe_erased && IsErased(txn, change.collection, change.id)) return {};
  if (change.erased) {
    Erase(txn, change, state);
    if (was_live) AddToCount(txn, change.collection, change.id, -1);
    MergeResult erased;
    erased.changed = true;
    return erased;
  }
  MergeResult result = Merge(change, state);
  if (result.changed) {
    std::string key = RecordKey(change.collection, change.id);
    txn.Put(records_, key, EncodeRecordState(*state));
    if (KeepsFeed(txn)) AppendFeed(txn, key);
    if (state->live() != was_live) AddToCount(txn, change.collection, change.id, was_live ? -1 : 1);
  }
  for (const Conflict& conflict : result.conflicts) PutConflict(txn, change, conflict);
  return result;
}

bool Store::IsErased(const Txn& txn, std::string_view collection, std::string_view id) const {
  return txn.Get(meta_, std::string(kMetaErasedPrefix) + RecordKey(collection, id)).has_value();
}

void Store::Erase(WriteTxn& txn, const protocol::Change& erase, RecordState* state) {
  std::string key = RecordKey(erase.collection, erase.id);
  *state = RecordState{};
  state->tombstone = Version{.stamp = erase.stamp, .origin = erase.origin, .base = {}};
  txn.Put(records_, key, EncodeRecordState(*state));
  PutMetaU64(txn, std::string(kMetaErasedPrefix) + key, erase.stamp);
  PutMeta(txn, kMetaCompactPending, "");
  // Conflicts: collection 0x00 id 0x00 ...
  std::string conflict_prefix = key + '\0';
  std::vector<std::string> doomed;
  Table(conflicts_).Scan(txn, conflict_prefix, [&](std::string_view k, std::string_view) {
    doomed.emplace_back(k);
    return true;
  });
  for (const std::string& k : doomed) txn.Del(conflicts_, k);
  auto names_it = [&](std::string_view bytes) {
    protocol::Change change;
    return protocol::DecodeChange(bytes, protocol::DecodeLimits{}, &change).ok() &&
           change.collection == erase.collection && change.id == erase.id;
  };
  // Log entries keep their place (sequence, stamp) and become erasures without values.
  std::map<uint64_t, std::string> scrubbed;
  log_.ForEach(txn, 1, [&](uint64_t seq, std::string_view bytes) {
    protocol::Change change;
    if (protocol::DecodeChange(bytes, protocol::DecodeLimits{}, &change).ok() &&
        change.collection == erase.collection && change.id == erase.id && !change.erased) {
      change.deleted = true;
      change.erased = true;
      change.fields.clear();
      scrubbed.emplace(seq, protocol::EncodeChange(change));
    }
    return true;
  });
  log_.Rewrite(txn, scrubbed);
  // Returns (node): seal(16) change bytes; an erased record's are not handed back.
  doomed.clear();
  Table(returns_).Scan(txn, "", [&](std::string_view k, std::string_view v) {
    if (v.size() > 16 && names_it(v.substr(16))) doomed.emplace_back(k);
    return true;
  });
  for (const std::string& k : doomed) txn.Del(returns_, k);
}

void Store::ForEachRecord(const Txn& txn, std::string_view collection,
                          const std::function<void(std::string_view, std::string_view,
                                                   const RecordState&)>& visit) const {
  ForEachRecord(txn, collection, "", visit);
}

void Store::ForEachRecord(const Txn& txn, std::string_view collection, std::string_view id_prefix,
                          const std::function<void(std::string_view, std::string_view,
                                                   const RecordState&)>& visit) const {
  Cursor cursor(txn, records_);
  std::string prefix = collection.empty() ? std::string() : RecordKey(collection, id_prefix);
  for (bool more = prefix.empty() ? cursor.First() : cursor.Seek(prefix); more;
       more = cursor.Next()) {
    std::string_view key = cursor.key();
    if (!prefix.empty() && key.substr(0, prefix.size()) != prefix) break;
    std::string_view record_collection, id;
    if (!SplitRecordKey(key, &record_collection, &id)) {
      throw Error(ErrorCode::kCorruption, "malformed record key in store");
    }
    RecordState state = DecodeRecordState(cursor.value());
    if (state.live()) visit(record_collection, id, state);
  }
}

void Store::AddToCount(WriteTxn& txn, std::string_view collection, std::string_view id, int delta) {
  std::string key = CountKey(collection, id);
  uint64_t count = 0;
  if (auto value = txn.Get(counts_, key); value && value->size() == 8) {
    count = ReadBigEndian64(*value);
  }
  if (delta < 0 && count == 0) return;  // never below zero, whatever an older build left
  count += delta;
  if (count == 0) {
    txn.Del(counts_, key);
    return;
  }
  std::string value;
  AppendBigEndian64(&value, count);
  txn.Put(counts_, key, value);
}

void Store::RecountAll(WriteTxn& txn) {
  std::map<std::string, uint64_t> counts;
  {
    Cursor cursor(txn, records_);
    for (bool more = cursor.First(); more; more = cursor.Next()) {
      std::string_view collection, id;
      if (!SplitRecordKey(cursor.key(), &collection, &id)) {
        throw Error(ErrorCode::kCorruption, "malformed record key in store");
      }
      if (DecodeRecordState(cursor.value()).live()) ++counts[CountKey(collection, id)];
    }
  }
  {
    std::vector<std::string> stale;
    Cursor cursor(txn, counts_);
    for (bool more = cursor.First(); more; more = cursor.Next()) stale.emplace_back(cursor.key());
    for (const std::string& key : stale) txn.Del(counts_, key);
  }
  for (const auto& [key, count] : counts) {
    std::string value;
    AppendBigEndian64(&value, count);
    txn.Put(counts_, key, value);
  }
}

void Store::ForEachCount(
    const Txn& txn,
    const std::function<void(std::string_view, std::string_view, uint64_t)>& visit) const {
  Cursor cursor(txn, counts_);
  for (bool more = cursor.First(); more; more = cursor.Next()) {
    std::string_view collection, prefix;
    if (!SplitRecordKey(cursor.key(), &collection, &prefix) || cursor.value().size() != 8) {
      throw Error(ErrorCode::kCorruption, "malformed record count in store");
    }
    visit(collection, prefix, ReadBigEndian64(cursor.value()));
  }
}

void Store::AppendFeed(WriteTxn& txn, std::string_view key, bool listed) {
  // The next seq is taken before the record's old entry goes: if that entry is the last, the
  // seq must still grow, or a reader past it would miss this change.
  std::string seq = SeqKey(FeedHead(txn) + 1);
  if (auto old = listed ? txn.Get(feedpos_, key) : std::nullopt) txn.Del(feed_, std::string(*old));
  txn.Put(feed_, seq, key, MDB_APPEND);
  txn.Put(feedpos_, key, seq);
}

uint64_t Store::FeedHead(const Txn& txn) const {
  Cursor cursor(txn, feed_);
  if (!cursor.Last()) return 0;
  return ReadBigEndian64(cursor.key());
}

void Store::ForEachFeed(
    const Txn& txn, uint64_t after, size_t limit,
    const std::function<void(uint64_t, std::string_view, std::string_view)>& visit) const {
  Cursor cursor(txn, feed_);
  size_t visited = 0;
  for (bool more = cursor.Seek(SeqKey(after + 1)); more && visited < limit;
       more = cursor.Next(), ++visited) {
    std::string_view collection, id;
    if (cursor.key().size() != 8 || !SplitRecordKey(cursor.value(), &collection, &id)) {
      throw Error(ErrorCode::kCorruption, "malformed feed entry in store");
    }
    visit(ReadBigEndian64(cursor.key()), collection, id);
  }
}

void Store::PutConflict(WriteTxn& txn, const protocol::Change& change, const Conflict& conflict) {
  std::string key = RecordKey(change.collection, change.id);
  key.push_back('\0');
  key.append(conflict.field);
  key.push_back('\0');
  AppendBigEndian64(&key, conflict.loser.stamp);
  key.append(conflict.loser.origin);
  txn.Put(conflicts_, key, EncodeConflict(conflict));
}

size_t Store::ConflictCount(const Txn& txn) const { return txn.Count(conflicts_); }

void Store::ForEachConflict(const Txn& txn,
                            const std::function<void(const StoredConflict&)>& visit) const {
  Cursor cursor(txn, conflicts_);
  for (bool more = cursor.First(); more; more = cursor.Next()) {
    std::string_view key = cursor.key();
    StoredConflict stored;
    size_t a = key.find('\0');
    size_t b = a == std::string_view::npos ? a : key.find('\0', a + 1);
    size_t c = b == std::string_view::npos ? b : key.find('\0', b + 1);
    if (c == std::string_view::npos) throw Error(ErrorCode::kCorruption, "malformed conflict key");
    stored.collection = key.substr(0, a);
    stored.id = key.substr(a + 1, b - a - 1);
    stored.conflict = DecodeConflict(cursor.value());
    stored.conflict.field = key.substr(b + 1, c - b - 1);
    visit(stored);
  }
}

std::optional<std::string_view> Store::GetMeta(const Txn& txn, std::string_view name) const {
  return txn.Get(meta_, name);
}

uint64_t Store::GetMetaU64(const Txn& txn, std::string_view name, uint64_t fallback) const {
  auto value = txn.Get(meta_, name);
  if (!value || value->size() != 8) return fallback;
  return ReadBigEndian64(*value);
}

void Store::PutMeta(WriteTxn& txn, std::string_view name, std::string_view value) {
  txn.Put(meta_, name, value);
}

void Store::PutMetaU64(WriteTxn& txn, std::string_view name, uint64_t value) {
  txn.Put(meta_, name, SeqKey(value));
}

}  // namespace osrc::storage

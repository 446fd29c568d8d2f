#include "storage/change_log.h"

#include "base/error.h"
#include "protocol/run_history.h"
#include "storage/varint.h"

namespace osrc::storage {
namespace {

constexpr char kBlockMark = 'B';
constexpr int kBlockLevel = 3;
// A block holds at most kLogBlockEntries changes of at most 1 MiB each (protocol::DecodeLimits).
constexpr size_t kMaxBlockBytes = kLogBlockEntries * ((1 << 20) + 16);

std::string BlockKey(uint64_t last) {
  std::string key = SeqKey(last);
  key.push_back(kBlockMark);
  return key;
}

bool IsEntryKey(std::string_view key) { return key.size() == 8; }
bool IsBlockKey(std::string_view key) { return key.size() == 9 && key[8] == kBlockMark; }

Error Corrupt(const std::string& what) { return Error(ErrorCode::kCorruption, what); }
Error Lacks(uint64_t seq) { return Corrupt("change log lacks " + std::to_string(seq)); }

std::string PackBlock(const std::vector<std::string_view>& entries) {
  std::string raw;
  AppendVarint(&raw, entries.size());
  for (std::string_view entry : entries) AppendString(&raw, entry);
  return protocol::CompressRun(raw, nullptr, kBlockLevel);
}

// Unpacks the block at `key` into `*raw`, with views of its entries; returns its first sequence.
uint64_t UnpackBlock(std::string_view key, std::string_view block, std::string* raw,
                     std::vector<std::string_view>* entries) {
  uint64_t last = ReadBigEndian64(key);
  std::string where = "change log block ending at " + std::to_string(last);
  if (!protocol::DecompressFrame(block, kMaxBlockBytes, raw)) throw Corrupt(where + ": not zstd");
  std::string_view in = *raw;
  uint64_t count = 0;
  if (!ReadVarint(&in, &count) || count == 0 || count > kLogBlockEntries || count > last) {
    throw Corrupt(where + ": bad count");
  }
  entries->resize(count);
  for (std::string_view& entry : *entries) {
    if (!ReadStringView(&in, &entry)) throw Corrupt(where + ": truncated");
  }
  if (!in.empty()) throw Corrupt(where + ": trailing bytes");
  return last - count + 1;
}

}  // namespace

std::string SeqKey(uint64_t seq) {
  std::string key;
  AppendBigEndian64(&key, seq);
  return key;
}

void ChangeLog::Append(WriteTxn& txn, uint64_t seq, std::string_view change_bytes) const {
  txn.Put(dbi_, SeqKey(seq), change_bytes, MDB_APPEND);
  if (seq % kLogBlockEntries == 0) SealBlock(txn, seq);
}

void ChangeLog::SealBlock(WriteTxn& txn, uint64_t last) const {
  uint64_t first = last - kLogBlockEntries + 1;
  std::vector<std::string> kept;
  {
    Cursor cursor(txn, dbi_);
    for (bool more = cursor.Seek(SeqKey(first)); more && kept.size() < kLogBlockEntries;
         more = cursor.Next()) {
      if (!IsEntryKey(cursor.key()) || ReadBigEndian64(cursor.key()) != first + kept.size()) break;
      kept.emplace_back(cursor.value());
    }
  }
  if (kept.size() < kLogBlockEntries) return;  // partly sealed or missing: left as it is
  std::string block = PackBlock({kept.begin(), kept.end()});
  for (uint64_t seq = first; seq <= last; ++seq) txn.Del(dbi_, SeqKey(seq));
  txn.Put(dbi_, BlockKey(last), block);
}

void ChangeLog::SealFullBlocks(WriteTxn& txn) const {
  uint64_t head = Head(txn);
  for (uint64_t last = kLogBlockEntries; last <= head; last += kLogBlockEntries) {
    SealBlock(txn, last);
  }
}

uint64_t ChangeLog::Head(const Txn& txn) const {
  Cursor cursor(txn, dbi_);
  if (!cursor.Last()) return 0;
  return ReadBigEndian64(cursor.key());
}

std::optional<std::string> ChangeLog::Get(const Txn& txn, uint64_t seq) const {
  LogReader reader(txn, *this);
  auto bytes = reader.Get(seq);
  if (!bytes) return std::nullopt;
  return std::string(*bytes);
}

void ChangeLog::ForEach(const Txn& txn, uint64_t first,
                        const std::function<bool(uint64_t, std::string_view)>& visit) const {
  Cursor cursor(txn, dbi_);
  std::string raw;
  std::vector<std::string_view> entries;
  uint64_t expected = first;
  for (bool more = cursor.Seek(SeqKey(first)); more; more = cursor.Next()) {
    std::string_view key = cursor.key();
    if (IsEntryKey(key)) {
      if (ReadBigEndian64(key) != expected) throw Lacks(expected);
      if (!visit(expected++, cursor.value())) return;
      continue;
    }
    if (!IsBlockKey(key)) throw Corrupt("malformed change log key");
    uint64_t block_first = UnpackBlock(key, cursor.value(), &raw, &entries);
    if (block_first > expected || block_first + entries.size() <= expected) throw Lacks(expected);
    for (; expected < block_first + entries.size(); ++expected) {
      if (!visit(expected, entries[expected - block_first])) return;
    }
  }
}

void ChangeLog::Rewrite(WriteTxn& txn, const std::map<uint64_t, std::string>& entries) const {
  auto it = entries.begin();
  while (it != entries.end()) {
    std::string key, raw;
    std::vector<std::string_view> views;  // of the block holding it->first, if any
    uint64_t first = 0;
    {
      Cursor cursor(txn, dbi_);
      if (!cursor.Seek(SeqKey(it->first))) throw Lacks(it->first);
      key = cursor.key();
      if (IsBlockKey(key)) first = UnpackBlock(key, cursor.value(), &raw, &views);
    }
    if (IsEntryKey(key)) {
      if (ReadBigEndian64(key) != it->first) throw Lacks(it->first);
      txn.Put(dbi_, key, it->second);
      ++it;
      continue;
    }
    if (!IsBlockKey(key)) throw Corrupt("malformed change log key");
    if (it->first < first) throw Lacks(it->first);
    uint64_t last = first + views.size() - 1;
    for (; it != entries.end() && it->first <= last; ++it) views[it->first - first] = it->second;
    txn.Put(dbi_, key, PackBlock(views));
  }
}

std::optional<std::string_view> LogReader::Get(uint64_t seq) {
  if (first_ != 0 && seq >= first_ && seq < first_ + entries_.size()) return entries_[seq - first_];
  Cursor cursor(txn_, log_.dbi());
  if (!cursor.Seek(SeqKey(seq))) return std::nullopt;
  std::string_view key = cursor.key();
  if (IsEntryKey(key)) {
    if (ReadBigEndian64(key) != seq) return std::nullopt;
    return cursor.value();
  }
  if (!IsBlockKey(key)) throw Corrupt("malformed change log key");
  first_ = 0;
  uint64_t first = UnpackBlock(key, cursor.value(), &raw_, &entries_);
  if (seq < first) return std::nullopt;
  first_ = first;
  return entries_[seq - first_];
}

}  // namespace osrc::storage

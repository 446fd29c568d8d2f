// ChangeLog: the layout of a store's change log (this replica's own writes, by sequence). Once
// every entry of an aligned block of kLogBlockEntries is written, the block is kept as one value
// compressed with zstd, at about a sixth of its entries' bytes: a site keeps its log for good (a
// restored hub asks for it again), so the log would otherwise be most of its folder.
//   be64(seq)          -> change wire bytes (entries of the block not yet full)
//   be64(last seq) 'B' -> zstd frame of: count, (size, change wire bytes)*  (varints; the block
//                         of sequences last - count + 1 .. last)
// A seek to be64(seq) lands on the entry or on the block holding it. Thread-safe as Env is.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/env.h"

namespace osrc::storage {

inline constexpr uint64_t kLogBlockEntries = 64;

// be64(seq): the key of a log entry, and of other tables' sequences.
std::string SeqKey(uint64_t seq);

class ChangeLog {
 public:
  explicit ChangeLog(Dbi dbi) : dbi_(dbi) {}
  Dbi dbi() const { return dbi_; }

  // Appends the entry after the head; seals its block when this entry fills it.
  void Append(WriteTxn& txn, uint64_t seq, std::string_view change_bytes) const;
  uint64_t Head(const Txn& txn) const;
  std::optional<std::string> Get(const Txn& txn, uint64_t seq) const;
  // Entries from `first` on, in order, while `visit` returns true; `visit`'s bytes live until it
  // returns, and it must not write to the log. Throws osrc::Error(kCorruption) where a sequence
  // is missing or a block is malformed.
  void ForEach(const Txn& txn, uint64_t first,
               const std::function<bool(uint64_t seq, std::string_view bytes)>& visit) const;
  // Replaces entries the log holds (sequence -> change wire bytes), in their blocks or not.
  void Rewrite(WriteTxn& txn, const std::map<uint64_t, std::string>& entries) const;
  // Seals every full block still kept as entries (a store from before blocks).
  void SealFullBlocks(WriteTxn& txn) const;

 private:
  // Seals the block ending at `last` if all its entries are kept one by one.
  void SealBlock(WriteTxn& txn, uint64_t last) const;

  Dbi dbi_;
};

// Reads entries by sequence, keeping the last block it unpacked: cheap for reads in order.
class LogReader {
 public:
  LogReader(const Txn& txn, const ChangeLog& log) : txn_(txn), log_(log) {}
  // The entry at `seq`, valid until the next call or the transaction's next write; nullopt if
  // the log lacks it. Throws osrc::Error(kCorruption) for a malformed block.
  std::optional<std::string_view> Get(uint64_t seq);

 private:
  const Txn& txn_;
  const ChangeLog& log_;
  uint64_t first_ = 0;  // sequence of entries_[0]; 0: no block unpacked
  std::string raw_;
  std::vector<std::string_view> entries_;
};

}  // namespace osrc::storage

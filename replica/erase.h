// Erasure of a record and every record referencing it (a participant's services, referrals and
// attendance), shared by node and hub: one write transaction issues an erasure order per record
// (storage::LocalWriter::Erase), which leaves collection, id and stamp and drops every value the
// store holds of them, and marks the store for compaction (storage/compact.h), which clears the
// bytes LMDB keeps of them in freed pages. Thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "replica/records.h"

namespace osrc::replica {

struct ErasedRecord {
  std::string collection;
  std::string id;
  uint64_t stamp = 0;  // of the erasure order
};

struct EraseResult {
  std::vector<ErasedRecord> erased;  // the record first, then those that referenced it
};

// Erases `collection`/`id` (kNotFound when the store never held it; kBadInput when already
// erased) and, in the same transaction, the records that reference it, and theirs in turn.
Status EraseRecord(Writer& writer, std::string_view collection, std::string_view id,
                   EraseResult* result);
// After erasure orders from elsewhere (`erased`, applied in `txn`): erases the records of this
// replica that referenced them and are deleted, whose values only its own change log still
// holds, by erasure orders of its own (which reach the other replicas as any change).
void EraseDeletedReferrersIn(Writer& writer, storage::WriteTxn& txn,
                             const std::vector<ErasedRecord>& erased, EraseResult* result);
// Erases each record of `records` that this store holds and has not erased (a register applied
// after a restore); `*result` lists those erased now.
Status EraseAgain(Writer& writer, const std::vector<ErasedRecord>& records, EraseResult* result);

// After a command that may have applied an erasure: compacts the store of `dir` when one is
// pending and this process is alone (storage/compact.h); then `store` must not be used again.
// The line to tell the operator; empty when nothing was pending.
std::string CompactAfterErasure(const std::string& dir, storage::Store& store);

// "erased participants/MAS-P1 and 3 records that referenced it: 2 services, 1 referrals".
std::string EraseSummary(const EraseResult& result);

}  // namespace osrc::replica

// Compaction of a store after an erasure. LMDB reuses freed pages without clearing them and
// leaves deleted bytes in the unused middle of live pages, so values an erasure dropped stay in
// data.mdb. A compacting copy (mdb_env_copy2, MDB_CP_COMPACT) writes only live pages, each from
// a clean buffer; it replaces data.mdb by rename. That is only safe while no other process has
// the store open: the caller must be alone (checked on LMDB's own lock file, which also holds
// later openers back until this process closes the store).
//
// An erasure marks the store (meta kMetaCompactPending); each program compacts at the end of a
// command that may have applied one, and the daemons when they start and stop, and pause to
// compact while they run as soon as CompactionDue says so.
#pragma once

#include <string>

#include "storage/store.h"

namespace osrc::storage {

enum class CompactOutcome {
  kNotPending,  // no erasure since the last compaction
  kCompacted,   // data.mdb replaced: the caller must close `store` without another transaction
  kBusy,        // another process has the store open: left pending
};

struct CompactStats {
  size_t bytes_before = 0;
  size_t bytes_after = 0;
  double seconds = 0;
};

// An erasure is pending and no other process has the store open now: a running daemon should
// pause (close its transactions) and compact. Cheap: one read and one fcntl query.
bool CompactionDue(const std::string& dir, Store& store);

// Compacts the store of folder `dir` if an erasure is pending and this process is alone.
// Throws osrc::Error(kIo) if the copy or the rename fails (the erasure then stays pending).
CompactOutcome CompactIfPending(const std::string& dir, Store& store,
                                CompactStats* stats = nullptr);

}  // namespace osrc::storage

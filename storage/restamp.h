// Re-stamping of a site's unacknowledged changes when its clock was found far ahead of the hub's:
// fresh stamps in the same order, with the record states and bases that carried the old stamps
// rewritten to match, so the site converges with what the hub will compute. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>

#include "storage/hlc.h"
#include "storage/store.h"

namespace osrc::storage {

// Re-stamps changes `from`..head of this replica's log (origin `origin`) with `hlc`.
// Returns how many were re-stamped. REQUIRES: none of them was acknowledged by the hub.
size_t RestampPending(Store& store, WriteTxn& txn, Hlc& hlc, const std::string& origin,
                      uint64_t from);

// The highest stamp among changes `from`..`to` of the log, 0 if none.
uint64_t MaxLogStamp(Store& store, const Txn& txn, uint64_t from, uint64_t to = UINT64_MAX);

// Whether the metas alone show every stamp of the log at most `horizon`: the clock (kMetaClock)
// bounds every stamp issued but those a correction left above it on changes already pushed
// (kMetaStampsAhead). False if they do not, or the store predates kMetaStampsAhead.
bool StampsBoundedBy(Store& store, const Txn& txn, uint64_t horizon);

// Whether every change from `from` on is stamped at most `horizon`: by the metas, or else by a
// scan of the log.
bool PendingWithin(Store& store, const Txn& txn, uint64_t from, uint64_t horizon);

// Records `highest`, a stamp of pending changes, in kMetaStampsAhead if above the clock; else
// records none.
void RecordStampsAhead(Store& store, WriteTxn& txn, uint64_t highest);

}  // namespace osrc::storage

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

// The highest stamp among changes `from`..head, 0 if none.
uint64_t MaxPendingStamp(Store& store, const Txn& txn, uint64_t from);

}  // namespace osrc::storage

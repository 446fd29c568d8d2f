// What a site keeps so that a hub restored from a backup gets back the changes of its own it lost:
// every hub change delivered in the current epoch, with the hub's seal over its bytes. When the
// hub's epoch changes, the kept changes become owed to it, and sessions hand them back (Reoffer,
// answered by ReofferAck) until all are acknowledged. The hub takes back only what its
// seal proves it wrote. Thread-compatible; each function works inside the caller's transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/messages.h"
#include "storage/store.h"

namespace osrc::node {

// Keeps a delivered hub change (no-op without a seal: a hub that does not seal).
void KeepDelivered(storage::Store& store, storage::WriteTxn& txn, uint64_t hub_seq,
                   std::string_view seal, std::string_view change);
// The hub's epoch changed: what was kept is now owed to the hub.
void OweKept(storage::Store& store, storage::WriteTxn& txn);
size_t OwedCount(storage::Store& store, const storage::Txn& txn);
// The next owed changes to hand back, at most `max_bytes` of them (at least one); nullopt if none.
std::optional<protocol::Reoffer> NextReoffer(storage::Store& store, const storage::Txn& txn,
                                             size_t max_bytes);
// The hub took back everything up to `token`.
void DropReoffered(storage::Store& store, storage::WriteTxn& txn, uint64_t token);

}  // namespace osrc::node

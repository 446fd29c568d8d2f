#include "hub/apply.h"

#include "hub/delivery.h"

namespace osrc::hub {

protocol::Ack ApplyPush(storage::Store& store, storage::WriteTxn& txn, SiteEntry& site,
                        uint64_t first, const std::vector<protocol::Change>& changes,
                        size_t* applied) {
  if (first > site.acked + 1) return {site.acked, true};
  for (const protocol::Change& change : changes) {
    if (change.seq <= site.acked) continue;
    store.Apply(txn, change);
    ++*applied;
  }
  if (!changes.empty()) site.acked = std::max(site.acked, first + changes.size() - 1);
  return {site.acked, false};
}

size_t TakeBack(storage::Store& store, storage::WriteTxn& txn, const config::Schema& schema,
                const std::vector<protocol::Change>& changes) {
  size_t taken = 0;
  uint64_t head = store.LogHead(txn);
  uint64_t clock = store.GetMetaU64(txn, storage::kMetaClock);
  for (protocol::Change change : changes) {
    if (!store.Apply(txn, change).changed) continue;
    change.seq = ++head;
    store.AppendLog(txn, change.seq, protocol::EncodeChange(change));
    IndexDelivery(store, txn, DestinationOf(schema, change), change.seq);
    clock = std::max(clock, change.stamp);
    ++taken;
  }
  store.PutMetaU64(txn, storage::kMetaClock, clock);
  return taken;
}

}  // namespace osrc::hub

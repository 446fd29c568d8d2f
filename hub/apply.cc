#include "hub/apply.h"

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

}  // namespace osrc::hub

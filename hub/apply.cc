#include "hub/apply.h"

#include <set>

#include "hub/delivery.h"

namespace osrc::hub {

Status ApplyPush(storage::Store& store, storage::WriteTxn& txn, const config::Schema& schema,
                 SiteEntry& site, uint64_t first, const std::vector<protocol::Change>& changes,
                 size_t* applied, protocol::Ack* ack, std::vector<replica::ErasedRecord>* erased,
                 size_t* refused_erased) {
  if (first > site.acked + 1) {
    *ack = {site.acked, true};
    return {};
  }
  // Records the store holds or earlier changes of this push write: a service's participant is
  // looked up in the store once per push. A record seen before answers kLive, live or not: the
  // merge check asks only whether the hub ever held it.
  // (collection, id) views into the schema and `changes`, which outlive the set.
  std::set<std::pair<std::string_view, std::string_view>> seen;
  config::RefLookup lookup = [&](std::string_view collection, std::string_view id) {
    if (seen.count({collection, id}) > 0) return config::RefState::kLive;
    std::optional<bool> live = store.RecordLive(txn, collection, id);
    if (!live) return config::RefState::kNone;
    seen.emplace(collection, id);
    return *live ? config::RefState::kLive : config::RefState::kDeleted;
  };
  for (const protocol::Change& change : changes) {
    if (change.seq <= site.acked) continue;
    if (Status status = schema.CheckMergeRefs(change, lookup); !status.ok()) {
      return status.WithContext("change " + std::to_string(change.seq));
    }
    if (schema.IsReferenced(change.collection)) seen.emplace(change.collection, change.id);
  }
  for (const protocol::Change& change : changes) {
    if (change.seq <= site.acked) continue;
    bool changed = store.Apply(txn, change).changed;
    if (change.erased && changed && erased != nullptr) {
      erased->push_back({change.collection, change.id, change.stamp});
    } else if (!change.erased && !changed && refused_erased != nullptr &&
               store.IsErased(txn, change.collection, change.id)) {
      ++*refused_erased;
    }
    ++*applied;
  }
  if (!changes.empty()) site.acked = std::max(site.acked, first + changes.size() - 1);
  *ack = {site.acked, false};
  return {};
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

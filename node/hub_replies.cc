#include "node/hub_replies.h"

#include "node/reoffer.h"
#include "replica/erase.h"
#include "storage/hlc.h"
#include "storage/restamp.h"

namespace osrc::node {
namespace {

// Restarts a clock found ahead of the hub's (never below what the hub may hold of ours) and
// re-stamps the changes after `kept`, the last the hub has or may have with their stamps.
void CorrectClock(Node& node, storage::WriteTxn& txn, const protocol::Welcome& welcome,
                  int64_t offset, uint64_t kept, spdlog::logger& log) {
  storage::Store& store = node.store();
  uint64_t horizon = storage::StampOf(welcome.hub_clock + welcome.max_skew_ms);
  if (storage::StampsBoundedBy(store, txn, horizon)) return;
  // Changes pushed before an earlier Welcome kept their stamps, which may lie beyond the clock;
  // so may those pushed with this connection's Hello (after the hub's acknowledgement, to
  // `kept`), which keep their stamps.
  uint64_t sent = storage::MaxLogStamp(store, txn, welcome.acked + 1, kept);
  uint64_t unsent = storage::MaxLogStamp(store, txn, kept + 1);
  if (store.GetMetaU64(txn, storage::kMetaClock) <= horizon && unsent <= horizon) {
    storage::RecordStampsAhead(store, txn, std::max(sent, unsent));
    return;
  }
  uint64_t floor = storage::StampOf(welcome.hub_clock);
  protocol::Change last_kept;
  auto bytes = kept > 0 ? store.GetLog(txn, kept) : std::nullopt;
  if (bytes && protocol::DecodeChange(*bytes, {}, &last_kept).ok()) {
    floor = std::max(floor, last_kept.stamp);
  }
  storage::Hlc hlc(node.clock(), floor);
  hlc.set_offset_ms(offset);
  size_t restamped = storage::RestampPending(store, txn, hlc, node.config().site, kept + 1);
  store.PutMetaU64(txn, storage::kMetaClock, hlc.last());
  storage::RecordStampsAhead(store, txn, sent);
  log.warn("site clock {} ms ahead of the hub: re-stamped {} unacknowledged changes", -offset,
           restamped);
}

}  // namespace

bool ClockTrusted(Node& node, const storage::Txn& txn) {
  storage::Store& store = node.store();
  uint64_t max_skew_ms = store.GetMetaU64(txn, storage::kMetaMaxSkew);
  if (max_skew_ms == 0) return false;
  auto offset = static_cast<int64_t>(store.GetMetaU64(txn, storage::kMetaClockOffset));
  auto hub_now = static_cast<int64_t>(node.clock().NowMillis()) + offset;
  if (hub_now <= 0) return false;
  uint64_t horizon = storage::StampOf(static_cast<uint64_t>(hub_now) + max_skew_ms / 2);
  uint64_t acked = store.GetMetaU64(txn, storage::kMetaAcked);
  return storage::PendingWithin(store, txn, acked + 1, horizon);
}

Status ApplyWelcome(Node& node, storage::WriteTxn& txn, const protocol::Welcome& welcome, bool live,
                    uint64_t round_trip_ms, uint64_t sent_through, spdlog::logger& log,
                    WelcomeOutcome* out) {
  storage::Store& store = node.store();
  out->head = store.LogHead(txn);
  std::string epoch(store.GetMeta(txn, storage::kMetaEpoch).value_or(""));
  out->cursor = store.GetMetaU64(txn, storage::kMetaCursor);
  if (welcome.acked > out->head) {
    return {ErrorCode::kCorruption, "hub holds sequence " + std::to_string(welcome.acked) +
                                        " of this site but its log ends at " +
                                        std::to_string(out->head) +
                                        ": is this the right data folder?"};
  }
  if (epoch != welcome.epoch) {
    if (!epoch.empty()) {
      log.warn(
          "hub epoch changed (store restored): re-offering from {}, handing back the hub's "
          "changes received before, and re-reading deliveries",
          welcome.acked + 1);
      OweKept(store, txn);
    }
    out->cursor = 0;
    store.PutMeta(txn, storage::kMetaEpoch, welcome.epoch);
    store.PutMetaU64(txn, storage::kMetaCursor, 0);
  }
  out->acked = welcome.acked;
  int64_t offset = static_cast<int64_t>(welcome.hub_clock + round_trip_ms / 2) -
                   static_cast<int64_t>(node.clock().NowMillis());
  if (live) {
    store.PutMetaU64(txn, storage::kMetaClockOffset, static_cast<uint64_t>(offset));
    store.PutMetaU64(txn, storage::kMetaMaxSkew, welcome.max_skew_ms);
    CorrectClock(node, txn, welcome, offset, std::max(out->acked, sent_through), log);
  } else {
    auto current = static_cast<int64_t>(store.GetMetaU64(txn, storage::kMetaClockOffset));
    if (offset > current) {
      store.PutMetaU64(txn, storage::kMetaClockOffset, static_cast<uint64_t>(offset));
    }
  }
  store.PutMetaU64(txn, storage::kMetaAcked, out->acked);
  store.PutMetaU64(txn, storage::kMetaLastContact, welcome.hub_clock);
  return {};
}

Status ApplyDeliver(Node& node, storage::WriteTxn& txn, const protocol::Deliver& deliver,
                    spdlog::logger& log, uint64_t* cursor) {
  storage::Store& store = node.store();
  const std::string& site = node.config().site;
  std::vector<protocol::Change> changes(deliver.changes.size());
  for (size_t i = 0; i < deliver.changes.size(); ++i) {
    protocol::Change& change = changes[i];
    OSRC_RETURN_IF_ERROR(protocol::DecodeChange(deliver.changes[i], {}, &change)
                             .WithContext("delivered entry " + std::to_string(deliver.seqs[i])));
    const config::CollectionSpec* spec = node.schema().Find(change.collection);
    bool mine = spec != nullptr &&
                (spec->owner == config::Owner::kHub || change.id.rfind(site + "-", 0) == 0);
    if (!mine || change.origin == site) {
      return {ErrorCode::kBadMessage, "hub delivered a change not for this site",
              protocol::RecordName(change.collection, change.id)};
    }
  }
  uint64_t stamp = store.GetMetaU64(txn, storage::kMetaClock);
  std::vector<replica::ErasedRecord> erased;
  for (size_t i = 0; i < changes.size(); ++i) {
    bool changed = store.Apply(txn, changes[i]).changed;
    if (changes[i].erased && changed) {
      erased.push_back({changes[i].collection, changes[i].id, changes[i].stamp});
      // The operator learns it here and in `osrc-node status`; the record name only, no value.
      std::string name = protocol::RecordName(changes[i].collection, changes[i].id);
      log.warn(
          "the hub erased {}: its values are gone from this site, and writes to it are not "
          "kept",
          name);
      store.PutMetaU64(txn, storage::kMetaErasedByHub,
                       store.GetMetaU64(txn, storage::kMetaErasedByHub) + 1);
      store.PutMeta(txn, storage::kMetaLastErased, name);
    }
    stamp = std::max(stamp, changes[i].stamp);
    if (i < deliver.seals.size()) {
      KeepDelivered(store, txn, deliver.seqs[i], deliver.seals[i], deliver.changes[i]);
    }
  }
  *cursor = std::max(store.GetMetaU64(txn, storage::kMetaCursor), deliver.last);
  store.PutMetaU64(txn, storage::kMetaClock, stamp);
  store.PutMetaU64(txn, storage::kMetaCursor, *cursor);
  if (!erased.empty()) {
    // Records here that referenced them and are deleted keep values only in this site's log.
    replica::Writer writer = node.writer();
    replica::EraseResult referrers;
    replica::EraseDeletedReferrersIn(writer, txn, erased, &referrers);
    if (!referrers.erased.empty()) {
      log.warn("erased {} more records of this site that referenced them", referrers.erased.size());
    }
  }
  if (!changes.empty())
    log.info("applied {} delivered changes, cursor {}", changes.size(), *cursor);
  return {};
}

}  // namespace osrc::node

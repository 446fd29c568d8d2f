#include "storage/restamp.h"

#include <map>

#include "storage/varint.h"

namespace osrc::storage {
namespace {

protocol::Change DecodeLogged(std::string_view bytes, uint64_t seq) {
  protocol::Change change;
  Status status = protocol::DecodeChange(bytes, protocol::DecodeLimits{}, &change);
  if (!status.ok()) {
    throw Error(ErrorCode::kCorruption,
                "change log entry " + std::to_string(seq) + ": " + status.ToString());
  }
  return change;
}

uint64_t Remapped(const std::map<uint64_t, uint64_t>& remap, uint64_t stamp) {
  auto it = remap.find(stamp);
  return it == remap.end() ? stamp : it->second;
}

// A base names one of the re-stamped changes if it names `origin` (or, from before merge
// version 2, no origin).
void RemapBase(const std::map<uint64_t, uint64_t>& remap, const std::string& origin,
               uint64_t* stamp, const std::string& base_origin) {
  if (base_origin.empty() || base_origin == origin) *stamp = Remapped(remap, *stamp);
}

void RemapVersion(const std::map<uint64_t, uint64_t>& remap, const std::string& origin,
                  Version* version) {
  if (version->origin == origin) version->stamp = Remapped(remap, version->stamp);
  RemapBase(remap, origin, &version->base.stamp, version->base.origin);
}

}  // namespace

uint64_t MaxLogStamp(Store& store, const Txn& txn, uint64_t from, uint64_t to) {
  uint64_t max_stamp = 0;
  if (from > to) return max_stamp;
  store.ForEachLog(txn, from, [&](uint64_t seq, std::string_view bytes) {
    max_stamp = std::max(max_stamp, DecodeLogged(bytes, seq).stamp);
    return seq < to;
  });
  return max_stamp;
}

bool StampsBoundedBy(Store& store, const Txn& txn, uint64_t horizon) {
  return store.GetMeta(txn, kMetaStampsAhead).has_value() &&
         std::max(store.GetMetaU64(txn, kMetaClock), store.GetMetaU64(txn, kMetaStampsAhead)) <=
             horizon;
}

bool PendingWithin(Store& store, const Txn& txn, uint64_t from, uint64_t horizon) {
  return StampsBoundedBy(store, txn, horizon) || MaxLogStamp(store, txn, from) <= horizon;
}

void RecordStampsAhead(Store& store, WriteTxn& txn, uint64_t highest) {
  store.PutMetaU64(txn, kMetaStampsAhead,
                   highest > store.GetMetaU64(txn, kMetaClock) ? highest : 0);
}

size_t RestampPending(Store& store, WriteTxn& txn, Hlc& hlc, const std::string& origin,
                      uint64_t from) {
  std::map<uint64_t, uint64_t> remap;  // old stamp -> new stamp
  std::map<uint64_t, protocol::Change> pending;
  store.ForEachLog(txn, from, [&](uint64_t seq, std::string_view bytes) {
    pending.emplace(seq, DecodeLogged(bytes, seq));
    return true;
  });
  std::map<uint64_t, std::string> restamped;
  for (auto& [seq, change] : pending) {
    remap[change.stamp] = hlc.Now();
    change.stamp = remap[change.stamp];
    RemapBase(remap, origin, &change.base, change.base_origin);
    for (protocol::Field& field : change.fields) {
      RemapBase(remap, origin, &field.base, field.base_origin);
    }
    restamped.emplace(seq, protocol::EncodeChange(change));
    // The record may hold this change's values (and earlier pending ones') under old stamps.
    auto state = store.GetRecord(txn, change.collection, change.id);
    if (!state) continue;
    if (state->tombstone) RemapVersion(remap, origin, &*state->tombstone);
    for (auto& [name, base] : state->tomb_seen) RemapBase(remap, origin, &base.stamp, base.origin);
    for (auto& [name, field] : state->fields) RemapVersion(remap, origin, &field.version);
    txn.Put(store.records(), RecordKey(change.collection, change.id), EncodeRecordState(*state));
  }
  store.log().Rewrite(txn, restamped);
  return remap.size();
}

}  // namespace osrc::storage

#include "storage/restamp.h"

#include <map>

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

void RemapVersion(const std::map<uint64_t, uint64_t>& remap, const std::string& origin,
                  Version* version) {
  if (version->origin == origin) version->stamp = Remapped(remap, version->stamp);
  version->base = Remapped(remap, version->base);
}

}  // namespace

uint64_t MaxPendingStamp(Store& store, const Txn& txn, uint64_t from) {
  uint64_t max_stamp = 0;
  Cursor cursor(txn, store.log());
  for (bool more = cursor.Seek(SeqKey(from)); more; more = cursor.Next()) {
    protocol::Change change = DecodeLogged(cursor.value(), from);
    max_stamp = std::max(max_stamp, change.stamp);
  }
  return max_stamp;
}

size_t RestampPending(Store& store, WriteTxn& txn, Hlc& hlc, const std::string& origin,
                      uint64_t from) {
  std::map<uint64_t, uint64_t> remap;  // old stamp -> new stamp
  uint64_t head = store.LogHead(txn);
  for (uint64_t seq = from; seq <= head; ++seq) {
    auto bytes = store.GetLog(txn, seq);
    if (!bytes) throw Error(ErrorCode::kCorruption, "change log lacks " + std::to_string(seq));
    protocol::Change change = DecodeLogged(*bytes, seq);
    remap[change.stamp] = hlc.Now();
    change.stamp = remap[change.stamp];
    change.base = Remapped(remap, change.base);
    for (protocol::Field& field : change.fields) field.base = Remapped(remap, field.base);
    txn.Put(store.log(), SeqKey(seq), protocol::EncodeChange(change));
    // The record may hold this change's values (and earlier pending ones') under old stamps.
    auto state = store.GetRecord(txn, change.collection, change.id);
    if (!state) continue;
    if (state->tombstone) RemapVersion(remap, origin, &*state->tombstone);
    for (auto& [name, stamp] : state->tomb_seen) stamp = Remapped(remap, stamp);
    for (auto& [name, field] : state->fields) RemapVersion(remap, origin, &field.version);
    txn.Put(store.records(), RecordKey(change.collection, change.id), EncodeRecordState(*state));
  }
  return remap.size();
}

}  // namespace osrc::storage

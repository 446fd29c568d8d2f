#include "storage/local_writer.h"

namespace osrc::storage {

LocalWriter::LocalWriter(Store& store, WriteTxn& txn, Clock& clock, std::string origin)
    : store_(store),
      txn_(txn),
      origin_(std::move(origin)),
      head_(store.LogHead(txn)),
      hlc_(clock, store.GetMetaU64(txn, kMetaClock)) {
  hlc_.set_offset_ms(static_cast<int64_t>(store.GetMetaU64(txn, kMetaClockOffset)));
}

std::optional<protocol::Change> LocalWriter::Put(std::string_view collection, std::string_view id,
                                                 std::vector<protocol::Field> fields,
                                                 RecordState* current) {
  RecordState read;
  if (current == nullptr) {
    read = store_.GetRecord(txn_, collection, id).value_or(RecordState{});
    current = &read;
  }
  RecordState& state = *current;
  bool same = state.live();
  for (protocol::Field& field : fields) {
    auto it = state.fields.find(field.name);
    if (it == state.fields.end()) {
      field.base = 0;
      field.base_origin.clear();
      same = same && protocol::IsNull(field.value);
    } else {
      field.base = it->second.version.stamp;
      field.base_origin = it->second.version.origin;
      same = same && it->second.value == field.value;
    }
  }
  if (same) return std::nullopt;
  protocol::Change change = ChangeOf(collection, id, state);
  change.fields = std::move(fields);
  return Record(std::move(change), &state);
}

std::optional<protocol::Change> LocalWriter::Delete(std::string_view collection,
                                                    std::string_view id) {
  auto state = store_.GetRecord(txn_, collection, id);
  if (!state || state->fields.empty()) return std::nullopt;
  protocol::Change change = ChangeOf(collection, id, *state);
  change.deleted = true;
  // What the writer removes knowingly: each field's current write.
  for (const auto& [name, field] : state->fields) {
    change.fields.push_back({name, std::monostate{}, field.version.stamp, field.version.origin});
  }
  return Record(std::move(change));
}

std::optional<protocol::Change> LocalWriter::Erase(std::string_view collection,
                                                   std::string_view id) {
  auto state = store_.GetRecord(txn_, collection, id);
  if (!state || store_.IsErased(txn_, collection, id)) return std::nullopt;
  protocol::Change change = ChangeOf(collection, id, *state);
  change.deleted = true;
  change.erased = true;
  return Record(std::move(change), &*state);
}

protocol::Change LocalWriter::ChangeOf(std::string_view collection, std::string_view id,
                                       const RecordState& state) {
  protocol::Change change;
  change.collection = collection;
  change.id = id;
  Base newest = state.Newest();
  change.base = newest.stamp;
  change.base_origin = std::move(newest.origin);
  return change;
}

protocol::Change LocalWriter::Record(protocol::Change change, RecordState* state) {
  change.origin = origin_;
  change.seq = ++head_;
  change.stamp = hlc_.Now();
  if (state != nullptr) {
    store_.ApplyTo(txn_, change, state);
  } else {
    store_.Apply(txn_, change);
  }
  store_.AppendLog(txn_, change.seq, protocol::EncodeChange(change));
  return change;
}

void LocalWriter::Finish() { store_.PutMetaU64(txn_, kMetaClock, hlc_.last()); }

}  // namespace osrc::storage

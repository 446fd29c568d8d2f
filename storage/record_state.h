// RecordState: the merged state of one record (per-field values with their stamps, and the
// tombstone), and its byte encoding in the record store. Pure values. Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/change.h"

namespace osrc::storage {

using protocol::Value;

// The layout of record states and conflicts this build writes (store.h keeps it in meta).
// 1: bases are stamps only. 2: bases are (stamp, origin). 3: the store keeps a feed (store.h).
// 4: the store keeps live counts (store.h). 5: fields share the record's common version.
// 6: the change log keeps full blocks of entries compressed (change_log.h).
inline constexpr uint32_t kStoreFormat = 6;

// The write a writer saw, by (stamp, origin); stamp 0: none. An empty origin is unknown (a base
// from before merge version 2) and names any write with that stamp.
struct Base {
  uint64_t stamp = 0;
  std::string origin;

  bool Names(uint64_t write_stamp, std::string_view write_origin) const {
    return stamp == write_stamp && (origin.empty() || origin == write_origin);
  }
  friend auto operator<=>(const Base&, const Base&) = default;
};

// Who wrote a value, and when: ordered by stamp, then origin.
struct Version {
  uint64_t stamp = 0;
  std::string origin;
  Base base;  // what the writer saw (per field, or the record's for a delete)

  bool Beats(const Version& other) const {
    return stamp != other.stamp ? stamp > other.stamp : origin > other.origin;
  }
  friend bool operator==(const Version&, const Version&) = default;
};

struct FieldState {
  Value value;  // null: unset
  Version version;
  friend bool operator==(const FieldState&, const FieldState&) = default;
};

struct RecordState {
  std::optional<Version> tombstone;
  // Per field, the write the deleting writer saw: what it deliberately removed.
  std::map<std::string, Base, std::less<>> tomb_seen;
  std::map<std::string, FieldState, std::less<>> fields;  // every field newer than the tombstone

  // A record exists while it holds a field written after its last delete.
  bool live() const { return !fields.empty(); }
  // Highest stamp in the state.
  uint64_t max_stamp() const;
  // Highest (stamp, origin) in the state: the record base of the next local write.
  Base Newest() const;
  friend bool operator==(const RecordState&, const RecordState&) = default;
};

// Encoding (all integers little-endian varints, strings as varint length + bytes):
//   state   := has_tomb:u8 [version nseen (name base)*] nfields [common] (name field_state)*
//              seen and fields sorted by name; common: the version most fields share
//   version := stamp origin base
//   base    := stamp origin          (format 1: stamp)
//   field_state := tag:u8 [version] payload
//              tag: the value's tag, plus 0x80 when the field has its own version (not common)
//   value   := tag payload: 0 (null) | 1 (false) | 2 (true) | 3 zigzag-varint (int)
//            | 4 f64le (float) | 5 string (text)
// Formats before 5: no common version; field_state := version value.
std::string EncodeRecordState(const RecordState& state);
// EncodeRecordState of what `change` merges into a record the store does not hold, without
// building the state; nullopt unless `change` writes fields (not a delete) sorted and unique.
std::optional<std::string> EncodeNewRecordState(const protocol::Change& change);
// Throws osrc::Error(kCorruption) on malformed bytes: they come from our own store. `format`:
// the store format the bytes were written in; older ones decode with unknown base origins.
RecordState DecodeRecordState(std::string_view bytes, uint32_t format = kStoreFormat);

// Whether an encoded state is live (holds a field), reading no more of it than it must.
// Throws osrc::Error(kCorruption) as DecodeRecordState does.
bool RecordStateLive(std::string_view bytes);

// A field's value of an encoded state, not copied: text points into the encoded bytes.
struct FieldView {
  std::string_view name;
  char tag = 0;  // as in the encoding: 0 null, 1 false, 2 true, 3 int, 4 float, 5 text
  std::string_view text;
  int64_t number = 0;
};
// The fields of an encoded state (current format) in name order, without copying or building a
// RecordState: for scans that read a few fields of many records. An empty result is a record
// that is not live. Throws osrc::Error(kCorruption) as DecodeRecordState does.
void DecodeFieldViews(std::string_view bytes, std::vector<FieldView>* out);

void AppendVersion(std::string* out, const Version& version);
// False on malformed input; advances `in`.
bool ReadVersion(std::string_view* in, Version* version, uint32_t format = kStoreFormat);
void AppendBase(std::string* out, const Base& base);
bool ReadBase(std::string_view* in, Base* base, uint32_t format = kStoreFormat);

void AppendValue(std::string* out, const Value& value);
// False on malformed input; advances `in`.
bool ReadValue(std::string_view* in, Value* value);

}  // namespace osrc::storage

// RecordState: the merged state of one record (per-field values with their stamps, and the
// tombstone), and its byte encoding in the record store. Pure values. Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/change.h"

namespace osrc::storage {

using protocol::Value;

// Who wrote a value, and when: ordered by stamp, then origin.
struct Version {
  uint64_t stamp = 0;
  std::string origin;
  uint64_t base = 0;  // what the writer saw (per field, or the record's for a delete)

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
  // Per field, the stamp of the value the deleting writer saw: what it deliberately removed.
  std::map<std::string, uint64_t, std::less<>> tomb_seen;
  std::map<std::string, FieldState, std::less<>> fields;  // every field newer than the tombstone

  // A record exists while it holds a field written after its last delete.
  bool live() const { return !fields.empty(); }
  // Highest stamp in the state: the base of the next local write.
  uint64_t max_stamp() const;
  friend bool operator==(const RecordState&, const RecordState&) = default;
};

// Encoding (all integers little-endian varints, strings as varint length + bytes):
//   state   := has_tomb:u8 [version nseen (name stamp)*] nfields (name field_state)*
//              seen and fields sorted by name
//   version := stamp origin base
//   field_state := version value
//   value   := 0 (null) | 1 (false) | 2 (true) | 3 zigzag-varint (int) | 4 f64le (float)
//            | 5 string (text)
std::string EncodeRecordState(const RecordState& state);
// Throws osrc::Error(kCorruption) on malformed bytes: they come from our own store.
RecordState DecodeRecordState(std::string_view bytes);

void AppendValue(std::string* out, const Value& value);
// False on malformed input; advances `in`.
bool ReadValue(std::string_view* in, Value* value);

}  // namespace osrc::storage

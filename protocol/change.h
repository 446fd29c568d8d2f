// Change: one write at its origin, as a plain value, and its codec to and from the wire bytes
// (a Cap'n Proto `Change` message, packed encoding). Pure: no sockets, no storage.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/error.h"

namespace osrc::protocol {

// Null (unset), bool, int, float or text.
using Value = std::variant<std::monostate, bool, int64_t, double, std::string>;

inline bool IsNull(const Value& value) { return value.index() == 0; }

struct Field {
  // Constructors, not an aggregate, so the many `{name, value, base}` sites need no origin;
  // two arguments at least, so nothing converts to a Field by accident.
  Field() = default;
  Field(std::string name, Value value, uint64_t base = 0, std::string base_origin = {})
      : name(std::move(name)),
        value(std::move(value)),
        base(base),
        base_origin(std::move(base_origin)) {}

  std::string name;
  Value value;
  // (stamp, origin) of this field's value the writer saw; stamp 0: none. An empty origin is
  // unknown (changes from before merge version 2) and names any write with that stamp.
  uint64_t base = 0;
  std::string base_origin;

  friend bool operator==(const Field&, const Field&) = default;
};

struct Change {
  // As Field's: positional `{collection, ..., fields}` sites need no base origin.
  Change() = default;
  Change(std::string collection, std::string id, std::string origin, uint64_t seq, uint64_t stamp,
         uint64_t base, bool deleted, std::vector<Field> fields, std::string base_origin = {})
      : collection(std::move(collection)),
        id(std::move(id)),
        origin(std::move(origin)),
        seq(seq),
        stamp(stamp),
        base(base),
        deleted(deleted),
        fields(std::move(fields)),
        base_origin(std::move(base_origin)) {}

  std::string collection;
  std::string id;
  std::string origin;
  uint64_t seq = 0;
  uint64_t stamp = 0;
  uint64_t base = 0;  // highest (stamp, origin) of the record state the writer saw
  bool deleted = false;
  std::vector<Field> fields;  // sorted by name, unique
  std::string base_origin;    // with `base`
  bool erased = false;        // an erasure order: deleted, no fields (sync.capnp)

  friend bool operator==(const Change&, const Change&) = default;
};

// Limits applied to every decode of untrusted bytes.
struct DecodeLimits {
  size_t max_bytes = 1 << 20;          // Default: 1 MiB per change
  uint64_t traversal_words = 1 << 18;  // Default: 2 MiB of words traversed
  int nesting = 16;                    // Default: 16
  size_t max_fields = 256;             // Default: 256
  size_t max_text = 64 * 1024;         // Default: 64 KiB per text
};

std::string EncodeChange(const Change& change);
// Decodes one change from untrusted bytes; never throws.
Status DecodeChange(std::span<const uint8_t> bytes, const DecodeLimits& limits, Change* out);
inline Status DecodeChange(std::string_view bytes, const DecodeLimits& limits, Change* out) {
  return DecodeChange({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, limits, out);
}

// "participants/MAS-P0000001", for errors and logs.
std::string RecordName(std::string_view collection, std::string_view id);

}  // namespace osrc::protocol

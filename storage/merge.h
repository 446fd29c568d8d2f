// The merge: applies one change to one record's state, per field, last writer wins by
// (stamp, origin), ties broken on typed values; a delete is a tombstone stamp and a later write
// revives. A write that replaces or loses to another origin's value it never saw, by (stamp,
// origin), is a conflict. Deterministic, order-independent and idempotent. Pure: no storage, no
// clock. Thread-compatible.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/change.h"
#include "storage/record_state.h"

namespace osrc::storage {

// The merge rules this build applies, carried in Hello: a node and a hub with different ones
// refuse each other. 1: bases by stamp, ties on stored value bytes. 2: bases by (stamp, origin),
// ties on typed values.
inline constexpr uint32_t kMergeVersion = 2;

// A value from another origin that its overwriter never saw, kept for review.
struct Conflict {
  std::string field;
  Version winner;
  bool winner_deleted = false;  // the winner is a delete of the record
  Value winner_value;
  Version loser;
  Value loser_value;
  friend bool operator==(const Conflict&, const Conflict&) = default;
};

struct MergeResult {
  bool changed = false;
  std::vector<Conflict> conflicts;
};

MergeResult Merge(const protocol::Change& change, RecordState* state);

// The total order on typed values that breaks ties between writes of equal (stamp, origin):
// by kind (null, bool, int, float, text), then by value; floats by their IEEE total order
// (-0.0 before 0.0, NaN-safe), text by bytes. Independent of any storage encoding.
std::strong_ordering CompareValues(const Value& a, const Value& b);

}  // namespace osrc::storage

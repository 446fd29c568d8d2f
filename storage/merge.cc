#include "storage/merge.h"

#include <bit>

namespace osrc::storage {
namespace {

// Maps a double's bits to an unsigned key whose order is IEEE 754 totalOrder.
uint64_t FloatKey(double value) {
  auto bits = std::bit_cast<uint64_t>(value);
  return bits >> 63 ? ~bits : bits | uint64_t{1} << 63;
}

// Total order on field writes: version first; equal versions (a forged duplicate) by typed
// value, then base, so every replica picks the same winner whatever the order.
bool Wins(const Version& a, const Value& a_value, const Version& b, const Value& b_value) {
  if (a.stamp != b.stamp || a.origin != b.origin) return a.Beats(b);
  if (auto order = CompareValues(a_value, b_value); order != 0) return order > 0;
  return a.base > b.base;
}

// A loss is a conflict when another origin's writer replaced a value it did not see.
bool Unseen(const Version& winner, const Version& loser) {
  return winner.origin != loser.origin && !winner.base.Names(loser.stamp, loser.origin);
}

// Whether the deleting writer saw `field`'s write `version`.
bool SeenByDelete(const RecordState& state, std::string_view field, const Version& version) {
  auto it = state.tomb_seen.find(field);
  return it != state.tomb_seen.end() && it->second.Names(version.stamp, version.origin);
}

MergeResult MergeDelete(const protocol::Change& change, RecordState* state) {
  MergeResult result;
  Version tomb{change.stamp, change.origin, Base{change.base, change.base_origin}};
  // Equal (stamp, origin), a forged duplicate: the higher base wins, whatever the order.
  if (state->tombstone && !tomb.Beats(*state->tombstone) &&
      !(tomb.stamp == state->tombstone->stamp && tomb.origin == state->tombstone->origin &&
        tomb.base > state->tombstone->base)) {
    return result;
  }
  state->tomb_seen.clear();
  for (const protocol::Field& seen : change.fields) {
    state->tomb_seen[seen.name] = Base{seen.base, seen.base_origin};
  }
  for (auto it = state->fields.begin(); it != state->fields.end();) {
    const FieldState& field = it->second;
    if (field.version.Beats(tomb)) {
      ++it;
      continue;
    }
    if (field.version.origin != tomb.origin && !SeenByDelete(*state, it->first, field.version) &&
        !protocol::IsNull(field.value)) {
      result.conflicts.push_back({it->first, tomb, true, {}, field.version, field.value});
    }
    it = state->fields.erase(it);
  }
  state->tombstone = std::move(tomb);
  result.changed = true;
  return result;
}

}  // namespace

std::strong_ordering CompareValues(const Value& a, const Value& b) {
  if (a.index() != b.index()) return a.index() <=> b.index();
  switch (a.index()) {
    case 1:
      return std::get<bool>(a) <=> std::get<bool>(b);
    case 2:
      return std::get<int64_t>(a) <=> std::get<int64_t>(b);
    case 3:
      return FloatKey(std::get<double>(a)) <=> FloatKey(std::get<double>(b));
    case 4:
      return std::get<std::string>(a) <=> std::get<std::string>(b);
    default:
      return std::strong_ordering::equal;
  }
}

MergeResult Merge(const protocol::Change& change, RecordState* state) {
  if (change.deleted) return MergeDelete(change, state);
  MergeResult result;
  for (const protocol::Field& incoming : change.fields) {
    Version version{change.stamp, change.origin, Base{incoming.base, incoming.base_origin}};
    if (state->tombstone && !version.Beats(*state->tombstone)) {
      const Version& tomb = *state->tombstone;
      if (tomb.origin != version.origin && !SeenByDelete(*state, incoming.name, version) &&
          !protocol::IsNull(incoming.value)) {
        result.conflicts.push_back({incoming.name, tomb, true, {}, version, incoming.value});
      }
      continue;
    }
    auto it = state->fields.lower_bound(incoming.name);
    if (it == state->fields.end() || it->first != incoming.name) {
      state->fields.emplace_hint(it, incoming.name, FieldState{incoming.value, std::move(version)});
      result.changed = true;
      continue;
    }
    FieldState& current = it->second;
    // Typed equality: -0.0 and 0.0 are different writes, whatever `==` on doubles says.
    if (current.version == version && CompareValues(current.value, incoming.value) == 0) continue;
    bool differ = current.value != incoming.value;
    if (Wins(version, incoming.value, current.version, current.value)) {
      if (differ && Unseen(version, current.version)) {
        result.conflicts.push_back(
            {incoming.name, version, false, incoming.value, current.version, current.value});
      }
      current = FieldState{incoming.value, std::move(version)};
      result.changed = true;
    } else if (differ && Unseen(current.version, version)) {
      result.conflicts.push_back(
          {incoming.name, current.version, false, current.value, version, incoming.value});
    }
  }
  return result;
}

}  // namespace osrc::storage

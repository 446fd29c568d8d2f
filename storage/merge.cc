#include "storage/merge.h"

namespace osrc::storage {
namespace {

// Total order on field writes: version first; equal versions (a forged duplicate) by value
// bytes, then base, so every replica picks the same winner whatever the order.
bool Wins(const Version& a, const Value& a_value, const Version& b, const Value& b_value) {
  if (a.stamp != b.stamp || a.origin != b.origin) return a.Beats(b);
  std::string a_bytes, b_bytes;
  AppendValue(&a_bytes, a_value);
  AppendValue(&b_bytes, b_value);
  return a_bytes != b_bytes ? a_bytes > b_bytes : a.base > b.base;
}

// A loss is a conflict when another origin's writer replaced a value it did not see.
bool Unseen(const Version& winner, const Version& loser) {
  return winner.origin != loser.origin && winner.base != loser.stamp;
}

// The stamp of `field` the deleting writer saw (0: none).
uint64_t SeenByDelete(const RecordState& state, std::string_view field) {
  auto it = state.tomb_seen.find(field);
  return it == state.tomb_seen.end() ? 0 : it->second;
}

MergeResult MergeDelete(const protocol::Change& change, RecordState* state) {
  MergeResult result;
  Version tomb{change.stamp, change.origin, change.base};
  // Equal (stamp, origin), a forged duplicate: the higher base wins, whatever the order.
  if (state->tombstone && !tomb.Beats(*state->tombstone) &&
      !(tomb.stamp == state->tombstone->stamp && tomb.origin == state->tombstone->origin &&
        tomb.base > state->tombstone->base)) {
    return result;
  }
  state->tomb_seen.clear();
  for (const protocol::Field& seen : change.fields) state->tomb_seen[seen.name] = seen.base;
  for (auto it = state->fields.begin(); it != state->fields.end();) {
    const FieldState& field = it->second;
    if (field.version.Beats(tomb)) {
      ++it;
      continue;
    }
    if (field.version.origin != tomb.origin &&
        SeenByDelete(*state, it->first) != field.version.stamp && !protocol::IsNull(field.value)) {
      result.conflicts.push_back({it->first, tomb, true, {}, field.version, field.value});
    }
    it = state->fields.erase(it);
  }
  state->tombstone = std::move(tomb);
  result.changed = true;
  return result;
}

}  // namespace

MergeResult Merge(const protocol::Change& change, RecordState* state) {
  if (change.deleted) return MergeDelete(change, state);
  MergeResult result;
  for (const protocol::Field& incoming : change.fields) {
    Version version{change.stamp, change.origin, incoming.base};
    if (state->tombstone && !version.Beats(*state->tombstone)) {
      const Version& tomb = *state->tombstone;
      if (tomb.origin != version.origin &&
          SeenByDelete(*state, incoming.name) != version.stamp &&
          !protocol::IsNull(incoming.value)) {
        result.conflicts.push_back({incoming.name, tomb, true, {}, version, incoming.value});
      }
      continue;
    }
    auto it = state->fields.find(incoming.name);
    if (it == state->fields.end()) {
      state->fields.emplace(incoming.name, FieldState{incoming.value, std::move(version)});
      result.changed = true;
      continue;
    }
    FieldState& current = it->second;
    if (current.version == version && current.value == incoming.value) continue;
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

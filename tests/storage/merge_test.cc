// Tests of the pure merge (storage/merge.h) and the record state encoding
// (storage/record_state.h): readable examples, then property tests over
// thousands of random multi-origin histories.
#include "storage/merge.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "protocol/change.h"
#include "storage/hlc.h"
#include "storage/record_state.h"
#include "tests/storage/test_printers.h"
#include "tests/support/fake_clock.h"

namespace osrc::storage {

namespace {

using protocol::Change;
using protocol::Field;

// ---------------------------------------------------------------------------
// Helpers for the examples.

Change Put(std::string origin, uint64_t stamp, std::vector<Field> fields, uint64_t base = 0) {
  Change change;
  change.collection = "participants";
  change.id = "MAS-P1";
  change.origin = std::move(origin);
  change.seq = 1;
  change.stamp = stamp;
  change.base = base;
  change.fields = std::move(fields);
  return change;
}

// A delete; `seen` names the field stamps its writer saw (null values).
Change Del(std::string origin, uint64_t stamp, uint64_t base, std::vector<Field> seen = {}) {
  Change change = Put(std::move(origin), stamp, std::move(seen), base);
  change.deleted = true;
  return change;
}

Field F(std::string name, Value value, Base base = {}) {
  return Field{std::move(name), std::move(value), base.stamp, std::move(base.origin)};
}

// Applies `changes` in order to a fresh state; appends all conflicts to `conflicts`.
RecordState ApplyAll(const std::vector<Change>& changes,
                     std::vector<Conflict>* conflicts = nullptr) {
  RecordState state;
  for (const Change& change : changes) {
    MergeResult result = Merge(change, &state);
    if (conflicts != nullptr) {
      conflicts->insert(conflicts->end(), result.conflicts.begin(), result.conflicts.end());
    }
  }
  return state;
}

// ---------------------------------------------------------------------------
// Examples.

TEST(MergeTest, FirstWriteCreatesTheRecord) {
  RecordState state;
  MergeResult result = Merge(Put("MAS", 10, {F("a", std::string("x"))}), &state);
  EXPECT_TRUE(result.changed);
  EXPECT_TRUE(result.conflicts.empty());
  ASSERT_TRUE(state.live());
  EXPECT_EQ(state.fields.at("a").value, Value(std::string("x")));
  EXPECT_EQ(state.fields.at("a").version, (Version{10, "MAS", {}}));
  EXPECT_EQ(state.max_stamp(), 10u);
}

TEST(MergeTest, DeleteThenOlderWriteStaysDeleted) {
  for (bool delete_first : {true, false}) {
    SCOPED_TRACE(delete_first ? "delete first" : "write first");
    std::vector<Change> changes = {Del("MAS", 30, 10), Put("MAS", 20, {F("a", int64_t{1})})};
    if (!delete_first) std::swap(changes[0], changes[1]);
    RecordState state = ApplyAll(changes);
    EXPECT_FALSE(state.live());
    ASSERT_TRUE(state.tombstone.has_value());
    EXPECT_EQ(state.tombstone->stamp, 30u);
  }
}

TEST(MergeTest, LaterWriteRevivesWithOnlyItsFields) {
  RecordState state = ApplyAll({Put("MAS", 10, {F("a", int64_t{1}), F("b", int64_t{2})}),
                                Del("MAS", 20, 10), Put("MAS", 30, {F("b", int64_t{3})})});
  ASSERT_TRUE(state.live());
  EXPECT_EQ(state.fields.size(), 1u);
  EXPECT_EQ(state.fields.at("b").value, Value(int64_t{3}));
  EXPECT_EQ(state.tombstone->stamp, 20u);
}

TEST(MergeTest, EqualStampsBreakTiesByOriginWhateverTheOrder) {
  Change mas = Put("MAS", 10, {F("a", std::string("from MAS"))});
  Change mnl = Put("MNL", 10, {F("a", std::string("from MNL"))});
  std::vector<Conflict> one, two;
  RecordState first = ApplyAll({mas, mnl}, &one);
  RecordState second = ApplyAll({mnl, mas}, &two);
  EXPECT_EQ(first, second);
  EXPECT_EQ(first.fields.at("a").value, Value(std::string("from MNL")));
  // Neither writer saw the other: both orders keep the loser for review.
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one, two);
  EXPECT_EQ(one[0].loser.origin, "MAS");
  EXPECT_EQ(one[0].loser_value, Value(std::string("from MAS")));
  EXPECT_EQ(one[0].winner.origin, "MNL");
}

TEST(MergeTest, HigherStampWinsOverHigherOrigin) {
  RecordState state =
      ApplyAll({Put("MAS", 11, {F("a", int64_t{1})}), Put("MNL", 10, {F("a", int64_t{2})})});
  EXPECT_EQ(state.fields.at("a").value, Value(int64_t{1}));
}

TEST(MergeTest, UnseenOverwriteIsAConflictNamingTheLoser) {
  std::vector<Conflict> conflicts;
  RecordState state = ApplyAll({Put("MAS", 10, {F("a", std::string("x"))}),
                                Put("HUB", 20, {F("a", std::string("y"))}, /*base=*/0)},
                               &conflicts);
  EXPECT_EQ(state.fields.at("a").value, Value(std::string("y")));
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(conflicts[0].field, "a");
  EXPECT_EQ(conflicts[0].loser, (Version{10, "MAS", {}}));
  EXPECT_EQ(conflicts[0].loser_value, Value(std::string("x")));
  EXPECT_EQ(conflicts[0].winner, (Version{20, "HUB", {}}));
  EXPECT_EQ(conflicts[0].winner_value, Value(std::string("y")));
  EXPECT_FALSE(conflicts[0].winner_deleted);
}

TEST(MergeTest, LateArrivingUnseenWriteIsAConflictToo) {
  std::vector<Conflict> conflicts;
  ApplyAll({Put("HUB", 20, {F("a", std::string("y"))}), Put("MAS", 10, {F("a", std::string("x"))})},
           &conflicts);
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(conflicts[0].loser, (Version{10, "MAS", {}}));
}

TEST(MergeTest, SeenOverwriteIsNotAConflict) {
  std::vector<Conflict> conflicts;
  ApplyAll({Put("MAS", 10, {F("a", std::string("x"))}),
            Put("HUB", 20, {F("a", std::string("y"), /*base=*/{10, "MAS"})}, 10)},
           &conflicts);
  EXPECT_TRUE(conflicts.empty());
}

TEST(MergeTest, SameOriginOverwriteIsNotAConflict) {
  std::vector<Conflict> conflicts;
  ApplyAll({Put("MAS", 20, {F("a", std::string("y"))}), Put("MAS", 10, {F("a", std::string("x"))})},
           &conflicts);
  EXPECT_TRUE(conflicts.empty());
}

TEST(MergeTest, EqualValuesAreNotAConflict) {
  std::vector<Conflict> conflicts;
  RecordState state = ApplyAll(
      {Put("MAS", 10, {F("a", std::string("x"))}), Put("HUB", 20, {F("a", std::string("x"))})},
      &conflicts);
  EXPECT_TRUE(conflicts.empty());
  EXPECT_EQ(state.fields.at("a").version.origin, "HUB");
}

TEST(MergeTest, DeleteOverUnseenWriteIsAConflict) {
  for (bool delete_first : {true, false}) {
    SCOPED_TRACE(delete_first ? "delete first" : "write first");
    std::vector<Change> changes = {Del("HUB", 30, /*base=*/5),
                                   Put("MAS", 20, {F("a", std::string("x"))})};
    if (!delete_first) std::swap(changes[0], changes[1]);
    std::vector<Conflict> conflicts;
    RecordState state = ApplyAll(changes, &conflicts);
    EXPECT_FALSE(state.live());
    ASSERT_EQ(conflicts.size(), 1u);
    EXPECT_TRUE(conflicts[0].winner_deleted);
    EXPECT_EQ(conflicts[0].winner.origin, "HUB");
    EXPECT_EQ(conflicts[0].loser, (Version{20, "MAS", {}}));
    EXPECT_EQ(conflicts[0].loser_value, Value(std::string("x")));
  }
}

TEST(MergeTest, DeleteOfSeenRecordIsNotAConflict) {
  std::vector<Conflict> conflicts;
  RecordState state =
      ApplyAll({Put("MAS", 20, {F("a", std::string("x"))}),
                Del("HUB", 30, /*base=*/20, {F("a", Value(), /*base=*/{20, "MAS"})})},
               &conflicts);
  EXPECT_FALSE(state.live());
  EXPECT_TRUE(conflicts.empty());
}

TEST(MergeTest, UnsetLosingToDeleteIsNotAConflict) {
  std::vector<Conflict> conflicts;
  ApplyAll({Del("HUB", 30, 0), Put("MAS", 20, {F("a", Value())})}, &conflicts);
  EXPECT_TRUE(conflicts.empty());
}

TEST(MergeTest, OlderDeleteChangesNothing) {
  RecordState state = ApplyAll({Del("MAS", 30, 0), Put("MAS", 40, {F("a", true)})});
  RecordState before = state;
  MergeResult result = Merge(Del("HUB", 20, 0), &state);
  EXPECT_FALSE(result.changed);
  EXPECT_EQ(state, before);
}

TEST(MergeTest, ReapplyingAChangeChangesNothing) {
  Change change = Put("MAS", 10, {F("a", 1.5), F("b", Value())});
  RecordState state;
  EXPECT_TRUE(Merge(change, &state).changed);
  RecordState before = state;
  EXPECT_FALSE(Merge(change, &state).changed);
  EXPECT_EQ(state, before);
}

// Two different changes carrying the same (stamp, origin) -- a forged or re-issued stamp --
// must still converge, including the recorded base.
TEST(MergeTest, ForgedDuplicateStampsConvergeWhateverTheOrder) {
  std::vector<std::pair<Change, Change>> cases = {
      {Put("MAS", 10, {F("a", std::string("x"))}), Put("MAS", 10, {F("a", std::string("y"))})},
      {Put("MAS", 10, {F("a", std::string("x"), {3, "MAS"})}),
       Put("MAS", 10, {F("a", std::string("x"), {4, "MAS"})})},
      {Put("MAS", 10, {F("a", std::string("x"), {3, "HUB"})}),
       Put("MAS", 10, {F("a", std::string("x"), {3, "MNL"})})},
      {Put("MAS", 10, {F("a", 0.0)}), Put("MAS", 10, {F("a", -0.0)})},
      {Del("MAS", 10, 3), Del("MAS", 10, 4)},
      {Put("MAS", 10, {F("a", int64_t{1})}), Del("MAS", 10, 4)},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    RecordState one = ApplyAll({cases[i].first, cases[i].second});
    RecordState two = ApplyAll({cases[i].second, cases[i].first});
    EXPECT_EQ(one, two);
    EXPECT_EQ(EncodeRecordState(one), EncodeRecordState(two));
  }
}

// A delete names the field stamps its writer saw, so an unseen write with a lower stamp than
// something the deleter saw is still a conflict.
TEST(MergeTest, DeleteOverUnseenOlderWriteIsAConflict) {
  // MAS, offline, sets "a" at 10; the hub, which never saw it, sets "b" at 20 and deletes the
  // record at 30 with base 20.
  std::vector<Conflict> conflicts;
  ApplyAll({Put("HUB", 20, {F("b", std::string("h"))}),
            Del("HUB", 30, 20, {F("b", Value(), /*base=*/{20, "HUB"})}),
            Put("MAS", 10, {F("a", std::string("x"))})},
           &conflicts);
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(conflicts[0].loser, (Version{10, "MAS", {}}));
}

// A field base names the value its writer saw by (stamp, origin): MNL overwrites its own value
// (stamp 10) while MAS wrote another value with the same stamp 10 that MNL never saw.
TEST(MergeTest, UnseenWriteWithACollidingStampIsAConflict) {
  std::vector<Change> changes = {Put("MAS", 10, {F("a", std::string("mas"))}),
                                 Put("MNL", 15, {F("a", std::string("mnl 2"), {10, "MNL"})}, 10),
                                 Put("MNL", 10, {F("a", std::string("mnl 1"))})};
  std::vector<size_t> order = {0, 1, 2};
  do {
    SCOPED_TRACE(::testing::PrintToString(order));
    std::vector<Change> ordered;
    for (size_t i : order) ordered.push_back(changes[i]);
    std::vector<Conflict> conflicts;
    RecordState state = ApplyAll(ordered, &conflicts);
    EXPECT_EQ(state.fields.at("a").value, Value(std::string("mnl 2")));
    ASSERT_EQ(conflicts.size(), 1u);
    EXPECT_EQ(conflicts[0].loser, (Version{10, "MAS", {}}));
    EXPECT_EQ(conflicts[0].loser_value, Value(std::string("mas")));
  } while (std::next_permutation(order.begin(), order.end()));
}

// A delete names the field writes it saw by (stamp, origin) too.
TEST(MergeTest, DeleteOverAnUnseenWriteWithACollidingStampIsAConflict) {
  std::vector<Conflict> conflicts;
  ApplyAll({Put("MNL", 10, {F("a", std::string("mnl"))}),
            Del("MNL", 20, 10, {F("a", Value(), {10, "MNL"})}),
            Put("MAS", 10, {F("a", std::string("mas"))})},
           &conflicts);
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_TRUE(conflicts[0].winner_deleted);
  EXPECT_EQ(conflicts[0].loser, (Version{10, "MAS", {}}));
}

// A base without an origin (a change or store from before merge version 2) names any write
// with its stamp, as it did then.
TEST(MergeTest, BaseWithoutAnOriginNamesAnyWriteWithItsStamp) {
  std::vector<Conflict> conflicts;
  ApplyAll({Put("MAS", 10, {F("a", std::string("x"))}),
            Put("HUB", 20, {F("a", std::string("y"), {10, ""})})},
           &conflicts);
  EXPECT_TRUE(conflicts.empty());
}

// Equal (stamp, origin) with different values (a forged duplicate): the typed value decides,
// not its storage bytes, so a change of the record encoding cannot change a merge result.
TEST(MergeTest, TiesBreakOnTypedValues) {
  std::vector<std::pair<Value, Value>> cases = {
      {int64_t{1}, int64_t{-64}},             // zigzag bytes order -64 first
      {std::string("b"), std::string("aa")},  // length-prefixed bytes order "aa" first
      {2.0, 1.5},                             // little-endian bytes order 1.5 first
      {0.0, -0.0},
      {std::string("x"), 3.0},  // by kind: text after float
  };
  for (const auto& [winner, loser] : cases) {
    SCOPED_TRACE(ValueText(winner) + " over " + ValueText(loser));
    for (bool winner_first : {true, false}) {
      std::vector<Change> changes = {Put("MAS", 10, {F("a", winner)}),
                                     Put("MAS", 10, {F("a", loser)})};
      if (!winner_first) std::swap(changes[0], changes[1]);
      RecordState state = ApplyAll(changes);
      EXPECT_TRUE(CompareValues(state.fields.at("a").value, winner) == 0);
    }
  }
}

TEST(MergeTest, ValuesAreTotallyOrderedByKindThenValue) {
  const double kInf = std::numeric_limits<double>::infinity();
  const double kNan = std::numeric_limits<double>::quiet_NaN();
  std::vector<Value> ascending = {Value(),
                                  false,
                                  true,
                                  int64_t{-5},
                                  int64_t{0},
                                  int64_t{64},
                                  -kInf,
                                  -1.5,
                                  -0.0,
                                  0.0,
                                  5e-324,
                                  kInf,
                                  kNan,
                                  std::string(""),
                                  std::string("a"),
                                  std::string("a\xff"),
                                  std::string("b")};
  for (size_t i = 0; i < ascending.size(); ++i) {
    for (size_t j = 0; j < ascending.size(); ++j) {
      EXPECT_TRUE(CompareValues(ascending[i], ascending[j]) == (i <=> j))
          << ValueText(ascending[i]) << " vs " << ValueText(ascending[j]);
    }
  }
}

// ---------------------------------------------------------------------------
// Random histories.

using RecordKeyPair = std::pair<std::string, std::string>;  // (collection, id)
using Replica = std::map<RecordKeyPair, RecordState>;

struct KeyedConflict {
  RecordKeyPair key;
  Conflict conflict;
};

constexpr const char* kOrigins[] = {"HUB", "MAS", "MNL"};
constexpr const char* kFieldNames[] = {"a", "b", "c"};
const RecordKeyPair kRecords[] = {
    {"participants", "MAS-P1"}, {"participants", "MAS-P2"}, {"services", "MAS-S1"}};

Value RandomValue(std::mt19937_64& rng) {
  switch (rng() % 9) {
    case 0:
      return Value();
    case 1:
      return false;
    case 2:
      return true;
    case 3:
      return int64_t{1};
    case 4:
      return int64_t{-2};
    case 5:
      return 1.5;
    case 6:
      return std::string("x");
    case 7:
      return std::string("y");
    default:
      return std::string();
  }
}

// One origin's own replica while the history is generated.
struct Site {
  std::string origin;
  osrc::testing::FakeClock clock;
  std::unique_ptr<Hlc> hlc;
  int64_t skew_ms = 0;
  Replica state;
  std::vector<size_t> received;  // per origin: how many of its changes this replica applied
  std::vector<KeyedConflict> conflicts;
};

struct History {
  size_t origins = 0;
  std::vector<Change> changes;            // in creation order
  std::vector<size_t> origin_of;          // per change: origin index
  std::vector<std::vector<size_t>> logs;  // per origin: indexes into changes, by seq
  std::vector<std::vector<size_t>> seen;  // per change: received[] of its writer when written
  std::vector<std::unique_ptr<Site>> sites;
};

void ApplyAt(Site& site, const Change& change, const RecordKeyPair& key) {
  MergeResult result = Merge(change, &site.state[key]);
  for (const Conflict& conflict : result.conflicts) site.conflicts.push_back({key, conflict});
}

// Delivers the next `count` changes of origin `from` to `site`, in log order.
void Deliver(History& h, Site& site, size_t from, size_t count) {
  for (; count > 0 && site.received[from] < h.logs[from].size(); --count) {
    const Change& change = h.changes[h.logs[from][site.received[from]++]];
    ApplyAt(site, change, {change.collection, change.id});
    site.hlc->Observe(change.stamp);
  }
}

// A realistic history: each origin writes against what its own replica has seen (its own
// writes and an in-order prefix of each other origin's log), with HLC stamps from a skewed
// clock that sometimes jumps back. In a third of the histories the clocks tick coarsely and
// together, so origins often issue equal stamps.
History Generate(std::mt19937_64& rng) {
  History h;
  // 0: milliseconds in a residue class per origin (no equal stamps across origins); 1: coarse
  // shared ticks; 2: shared milliseconds, skewed.
  int clocks = static_cast<int>(rng() % 3);
  h.origins = 2 + rng() % 2;
  size_t records = 1 + rng() % 3;
  size_t steps = 10 + rng() % 50;
  h.logs.resize(h.origins);
  for (size_t o = 0; o < h.origins; ++o) {
    auto site = std::make_unique<Site>();
    site->origin = kOrigins[o];
    site->skew_ms = clocks == 1 ? 0 : static_cast<int64_t>(rng() % 400) - 200;
    site->hlc = std::make_unique<Hlc>(site->clock, 0);
    site->received.assign(h.origins, 0);
    h.sites.push_back(std::move(site));
  }
  uint64_t now = 1'000'000 + rng() % 1000;
  for (size_t step = 0; step < steps; ++step) {
    now += 1 + rng() % 40;
    size_t o = rng() % h.origins;
    Site& site = *h.sites[o];
    if (rng() % 100 < 30) {
      size_t from = (o + 1 + rng() % (h.origins - 1)) % h.origins;
      Deliver(h, site, from, 1 + rng() % 4);
      continue;
    }
    if (rng() % 100 < 5) site.skew_ms -= 150;  // the clock jumps back
    auto ms = static_cast<uint64_t>(static_cast<int64_t>(now) + site.skew_ms);
    site.clock.Set(clocks == 0 ? ms * 4 + o : clocks == 1 ? ms / 64 * 64 : ms);
    const RecordKeyPair& key = kRecords[rng() % records];
    static const RecordState kAbsent;
    auto found = site.state.find(key);
    const RecordState& state = found == site.state.end() ? kAbsent : found->second;
    Change change;
    change.collection = key.first;
    change.id = key.second;
    Base newest = state.Newest();
    change.base = newest.stamp;
    change.base_origin = newest.origin;
    if (rng() % 100 < 15) {
      if (!state.live()) continue;  // as LocalWriter: nothing to delete
      change.deleted = true;
      for (const auto& [name, field] : state.fields) {
        change.fields.push_back({name, Value(), field.version.stamp, field.version.origin});
      }
    } else {
      bool same = state.live();
      for (const char* name : kFieldNames) {
        if (rng() % 2 == 0) continue;
        Field field{name, RandomValue(rng), 0, ""};
        auto it = state.fields.find(field.name);
        if (it == state.fields.end()) {
          same = same && protocol::IsNull(field.value);
        } else {
          field.base = it->second.version.stamp;
          field.base_origin = it->second.version.origin;
          same = same && it->second.value == field.value;
        }
        change.fields.push_back(std::move(field));
      }
      if (change.fields.empty() || same) continue;  // as LocalWriter: no-op puts record nothing
    }
    change.origin = site.origin;
    change.seq = h.logs[o].size() + 1;
    change.stamp = site.hlc->Now();
    h.seen.push_back(site.received);
    h.origin_of.push_back(o);
    h.logs[o].push_back(h.changes.size());
    h.changes.push_back(change);
    ApplyAt(site, change, key);
    site.received[o] = h.logs[o].size();
  }
  return h;
}

// True if two different origins issued the same stamp: the properties must hold for these too
// (UnseenWriteWithACollidingStampIsAConflict).
bool HasCrossOriginStampCollision(const History& h) {
  std::map<uint64_t, std::string> owner;
  for (const Change& change : h.changes) {
    auto [it, inserted] = owner.emplace(change.stamp, change.origin);
    if (!inserted && it->second != change.origin) return true;
  }
  return false;
}

std::string Describe(const Change& c) {
  std::ostringstream out;
  out << c.origin << "#" << c.seq << " " << c.collection << "/" << c.id << " stamp=" << c.stamp
      << " base=" << c.base << (c.deleted ? " DELETE" : "");
  for (const Field& f : c.fields) {
    out << " " << f.name << "=" << ValueText(f.value) << "(base " << f.base << ")";
  }
  return out.str();
}

std::string DescribeHistory(const History& h) {
  std::string out;
  for (const Change& c : h.changes) out += "  " + Describe(c) + "\n";
  return out;
}

const Field* FindField(const Change& change, std::string_view name) {
  for (const Field& field : change.fields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

// Whether write `w` of field `name` is accounted for although its value is gone: a later write
// whose writer saw it (field base names it, or same origin and a higher stamp), a delete
// that beats it and whose writer saw it (same origin, or it names that stamp; any delete
// that beats an unset), a conflict naming it as loser, or a winning write of the same value
// that is itself accounted for (equal values are not conflicts: the later writer saw the
// value).
bool Accounted(const History& h, size_t w, const std::string& name,
               const std::vector<KeyedConflict>& conflicts) {
  const Change& wc = h.changes[w];
  const Field& wf = *FindField(wc, name);
  Version wv{wc.stamp, wc.origin, {wf.base, wf.base_origin}};
  for (const KeyedConflict& kc : conflicts) {
    if (kc.key.first == wc.collection && kc.key.second == wc.id && kc.conflict.field == name &&
        kc.conflict.loser.origin == wc.origin && kc.conflict.loser.stamp == wc.stamp) {
      return true;
    }
  }
  for (size_t y = 0; y < h.changes.size(); ++y) {
    const Change& yc = h.changes[y];
    if (y == w || yc.collection != wc.collection || yc.id != wc.id) continue;
    if (yc.deleted) {
      Version tomb{yc.stamp, yc.origin, {yc.base, yc.base_origin}};
      // An unset agrees with any delete that beats it, as equal values do.
      const Field* seen = FindField(yc, name);
      if (tomb.Beats(wv) &&
          (yc.origin == wc.origin ||
           (seen && Base{seen->base, seen->base_origin}.Names(wc.stamp, wc.origin)) ||
           protocol::IsNull(wf.value))) {
        return true;
      }
      continue;
    }
    const Field* yf = FindField(yc, name);
    if (yf == nullptr) continue;
    Base yb{yf->base, yf->base_origin};
    if (yc.origin == wc.origin ? yc.stamp > wc.stamp : yb.Names(wc.stamp, wc.origin)) return true;
    Version yv{yc.stamp, yc.origin, yb};
    if (yf->value == wf.value && yv.Beats(wv) && Accounted(h, y, name, conflicts)) return true;
  }
  return false;
}

// Checks that every field write whose value the final state does not hold is accounted for.
::testing::AssertionResult NoWriteLost(const History& h, const Replica& state,
                                       const std::vector<KeyedConflict>& conflicts) {
  for (size_t w = 0; w < h.changes.size(); ++w) {
    const Change& wc = h.changes[w];
    if (wc.deleted) continue;
    const RecordState& record = state.at({wc.collection, wc.id});
    for (const Field& wf : wc.fields) {
      auto it = record.fields.find(wf.name);
      Value final_value = it == record.fields.end() ? Value() : it->second.value;
      if (final_value == wf.value) continue;
      if (!Accounted(h, w, wf.name, conflicts)) {
        return ::testing::AssertionFailure() << "write lost without a conflict: field " << wf.name
                                             << " of " << Describe(wc) << "\nhistory:\n"
                                             << DescribeHistory(h);
      }
    }
  }
  return ::testing::AssertionSuccess();
}

constexpr uint64_t kSeed = 20240611;
constexpr int kHistories = 3000;

TEST(MergeTest, ReplicasConvergeWhateverTheOrder) {
  std::mt19937_64 rng(kSeed);
  int colliding = 0;
  for (int iteration = 0; iteration < kHistories; ++iteration) {
    History h = Generate(rng);
    colliding += HasCrossOriginStampCollision(h);
    SCOPED_TRACE("seed " + std::to_string(kSeed) + " iteration " + std::to_string(iteration));
    Replica reference;
    for (int r = 0; r < 4; ++r) {
      // Every change once or more, in a random order.
      std::vector<size_t> order;
      for (size_t i = 0; i < h.changes.size(); ++i) {
        order.push_back(i);
        while (rng() % 4 == 0) order.push_back(i);
      }
      std::shuffle(order.begin(), order.end(), rng);
      Replica replica;
      for (size_t i : order) {
        const Change& c = h.changes[i];
        Merge(c, &replica[{c.collection, c.id}]);
      }
      if (r == 0) {
        reference = replica;
        continue;
      }
      ASSERT_EQ(replica, reference) << "replica " << r << "\n" << DescribeHistory(h);
      for (const auto& [key, state] : replica) {
        ASSERT_EQ(EncodeRecordState(state), EncodeRecordState(reference.at(key)));
      }
    }
    // The origins' own replicas, once caught up in log order, agree too.
    for (auto& site : h.sites) {
      for (size_t from = 0; from < h.origins; ++from) {
        Deliver(h, *site, from, h.logs[from].size());
      }
      ASSERT_EQ(site->state, reference) << "site " << site->origin << "\n" << DescribeHistory(h);
    }
  }
  EXPECT_GT(colliding, kHistories / 5) << "too few histories with colliding stamps";
}

TEST(MergeTest, ReapplyingAnyChangeChangesNothing) {
  std::mt19937_64 rng(kSeed + 1);
  for (int iteration = 0; iteration < kHistories; ++iteration) {
    History h = Generate(rng);
    SCOPED_TRACE("seed " + std::to_string(kSeed + 1) + " iteration " + std::to_string(iteration));
    std::vector<size_t> order(h.changes.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    Replica replica;
    for (size_t i : order) {
      const Change& c = h.changes[i];
      Merge(c, &replica[{c.collection, c.id}]);
    }
    for (const Change& c : h.changes) {
      RecordState& state = replica.at({c.collection, c.id});
      RecordState before = state;
      MergeResult result = Merge(c, &state);
      ASSERT_FALSE(result.changed) << Describe(c) << "\n" << DescribeHistory(h);
      ASSERT_EQ(state, before) << Describe(c);
    }
  }
}

TEST(MergeTest, NoWriteIsLostWithoutAConflict) {
  std::mt19937_64 rng(kSeed + 2);
  int colliding = 0;
  for (int iteration = 0; iteration < kHistories; ++iteration) {
    History h = Generate(rng);
    colliding += HasCrossOriginStampCollision(h);
    SCOPED_TRACE("seed " + std::to_string(kSeed + 2) + " iteration " + std::to_string(iteration));
    for (int r = 0; r < 3; ++r) {
      std::vector<size_t> order;
      for (size_t i = 0; i < h.changes.size(); ++i) {
        order.push_back(i);
        if (rng() % 5 == 0) order.push_back(i);
      }
      std::shuffle(order.begin(), order.end(), rng);
      Replica replica;
      std::vector<KeyedConflict> conflicts;
      for (size_t i : order) {
        const Change& c = h.changes[i];
        RecordKeyPair key{c.collection, c.id};
        MergeResult result = Merge(c, &replica[key]);
        for (const Conflict& conflict : result.conflicts) conflicts.push_back({key, conflict});
      }
      ASSERT_TRUE(NoWriteLost(h, replica, conflicts)) << "replica " << r;
    }
    // The origins' own replicas, which saw changes in causal order.
    for (auto& site : h.sites) {
      for (size_t from = 0; from < h.origins; ++from) {
        Deliver(h, *site, from, h.logs[from].size());
      }
      ASSERT_TRUE(NoWriteLost(h, site->state, site->conflicts)) << "site " << site->origin;
    }
  }
  EXPECT_GT(colliding, kHistories / 5) << "too few histories with colliding stamps";
}

TEST(MergeTest, ConflictsNameRealWrites) {
  std::mt19937_64 rng(kSeed + 3);
  for (int iteration = 0; iteration < 500; ++iteration) {
    History h = Generate(rng);
    SCOPED_TRACE("seed " + std::to_string(kSeed + 3) + " iteration " + std::to_string(iteration));
    std::vector<size_t> order(h.changes.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    Replica replica;
    for (size_t i : order) {
      const Change& c = h.changes[i];
      for (const Conflict& conflict : Merge(c, &replica[{c.collection, c.id}]).conflicts) {
        // Winner and loser differ in origin and each is a write (or delete) of the history.
        ASSERT_NE(conflict.winner.origin, conflict.loser.origin);
        ASSERT_TRUE(conflict.winner.Beats(conflict.loser));
        bool loser_found = false;
        for (const Change& other : h.changes) {
          const Field* f = FindField(other, conflict.field);
          if (other.origin == conflict.loser.origin && other.stamp == conflict.loser.stamp &&
              f != nullptr && f->value == conflict.loser_value) {
            loser_found = true;
          }
        }
        ASSERT_TRUE(loser_found) << "conflict on " << conflict.field << "\n" << DescribeHistory(h);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Record state encoding.

std::string RandomText(std::mt19937_64& rng) {
  std::string text(rng() % 6, '\0');
  for (char& c : text) c = static_cast<char>(rng() % 256);
  if (rng() % 8 == 0) text.assign(200 + rng() % 200, 'z');  // multi-byte length prefix
  return text;
}

Version RandomVersion(std::mt19937_64& rng) {
  static const uint64_t kStamps[] = {
      0, 1, 127, 128, (uint64_t{1} << 63), std::numeric_limits<uint64_t>::max()};
  Version version;
  version.stamp = rng() % 2 ? rng() : kStamps[rng() % 6];
  version.origin = RandomText(rng);
  version.base.stamp = rng() % 2 ? rng() >> (rng() % 64) : kStamps[rng() % 6];
  if (rng() % 2) version.base.origin = RandomText(rng);
  return version;
}

Value RandomStoredValue(std::mt19937_64& rng) {
  static const int64_t kInts[] = {0,
                                  -1,
                                  1,
                                  63,
                                  -64,
                                  64,
                                  std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max()};
  static const double kFloats[] = {0.0,    -0.0,   1.5,
                                   -1e300, 5e-324, std::numeric_limits<double>::infinity()};
  switch (rng() % 6) {
    case 0:
      return Value();
    case 1:
      return rng() % 2 == 0;
    case 2:
      return rng() % 2 ? kInts[rng() % 8] : static_cast<int64_t>(rng());
    case 3:
      return kFloats[rng() % 6];
    default:
      return RandomText(rng);
  }
}

RecordState RandomState(std::mt19937_64& rng) {
  RecordState state;
  if (rng() % 2) {
    state.tombstone = RandomVersion(rng);
    for (size_t i = rng() % 3; i > 0; --i)
      state.tomb_seen[RandomText(rng)] = RandomVersion(rng).base;
  }
  size_t fields = rng() % 5;
  for (size_t i = 0; i < fields; ++i) {
    state.fields[RandomText(rng)] = FieldState{RandomStoredValue(rng), RandomVersion(rng)};
  }
  return state;
}

TEST(RecordStateTest, EncodingRoundTrips) {
  std::mt19937_64 rng(kSeed + 4);
  for (int iteration = 0; iteration < 5000; ++iteration) {
    RecordState state = RandomState(rng);
    std::string bytes = EncodeRecordState(state);
    RecordState decoded = DecodeRecordState(bytes);
    ASSERT_EQ(decoded, state) << "iteration " << iteration;
    ASSERT_EQ(EncodeRecordState(decoded), bytes) << "iteration " << iteration;
  }
}

TEST(RecordStateTest, NegativeZeroKeepsItsSign) {
  RecordState state;
  state.fields["a"] = FieldState{-0.0, Version{1, "MAS", {}}};
  RecordState decoded = DecodeRecordState(EncodeRecordState(state));
  EXPECT_TRUE(std::signbit(std::get<double>(decoded.fields.at("a").value)));
}

TEST(RecordStateTest, TruncatedBytesThrowCorruption) {
  std::mt19937_64 rng(kSeed + 5);
  for (int iteration = 0; iteration < 150; ++iteration) {
    std::string bytes = EncodeRecordState(RandomState(rng));
    for (size_t size = 0; size < bytes.size(); ++size) {
      try {
        DecodeRecordState(std::string_view(bytes).substr(0, size));
        FAIL() << "iteration " << iteration << ": " << size << " of " << bytes.size()
               << " bytes decoded";
      } catch (const Error& error) {
        ASSERT_EQ(error.code(), ErrorCode::kCorruption);
      }
    }
  }
}

TEST(RecordStateTest, TrailingBytesThrowCorruption) {
  RecordState state;
  state.fields["a"] = FieldState{int64_t{7}, Version{1, "MAS", {}}};
  std::string bytes = EncodeRecordState(state) + '\0';
  EXPECT_THROW(DecodeRecordState(bytes), Error);
}

TEST(RecordStateTest, RandomBytesThrowOrDecodeButNeverCrash) {
  std::mt19937_64 rng(kSeed + 6);
  for (int iteration = 0; iteration < 5000; ++iteration) {
    std::string bytes(rng() % 40, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() % 8 == 0 ? rng() % 256 : rng() % 6);
    try {
      RecordState state = DecodeRecordState(bytes);
      // What decodes re-encodes to a valid state.
      DecodeRecordState(EncodeRecordState(state));
    } catch (const Error& error) {
      ASSERT_EQ(error.code(), ErrorCode::kCorruption);
    }
  }
}

TEST(RecordStateTest, MaxStampCoversFieldsAndTombstone) {
  RecordState state;
  EXPECT_EQ(state.max_stamp(), 0u);
  state.tombstone = Version{50, "HUB", {}};
  EXPECT_EQ(state.max_stamp(), 50u);
  state.fields["a"] = FieldState{true, Version{70, "MAS", {}}};
  state.fields["b"] = FieldState{false, Version{60, "MAS", {}}};
  EXPECT_EQ(state.max_stamp(), 70u);
}

TEST(RecordStateTest, ValueTagsAreStable) {
  auto bytes = [](const Value& value) {
    std::string out;
    AppendValue(&out, value);
    return out;
  };
  EXPECT_EQ(bytes(Value()), std::string(1, '\0'));
  EXPECT_EQ(bytes(false), "\x01");
  EXPECT_EQ(bytes(true), "\x02");
  EXPECT_EQ(bytes(int64_t{-1}), std::string("\x03\x01"));
  EXPECT_EQ(bytes(int64_t{1}), std::string("\x03\x02"));
  EXPECT_EQ(bytes(std::string("hi")), std::string("\x05\x02hi"));
  std::string_view in = "\x07";
  Value value;
  EXPECT_FALSE(ReadValue(&in, &value));
}

}  // namespace
}  // namespace osrc::storage

// Tests of the LMDB store (storage/store.h) in a temporary folder: records, the change log,
// meta values, conflicts, and the store format (migration of format 1 stores, refusal of newer
// ones).
#include "storage/store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "base/error.h"
#include "protocol/change.h"
#include "storage/merge.h"
#include "storage/varint.h"
#include "tests/storage/test_printers.h"
#include "tests/support/temp_dir.h"

namespace osrc::storage {
namespace {

using protocol::Change;
using protocol::Field;

Change Put(std::string collection, std::string id, std::string origin, uint64_t stamp,
           std::vector<Field> fields) {
  Change change;
  change.collection = std::move(collection);
  change.id = std::move(id);
  change.origin = std::move(origin);
  change.seq = 1;
  change.stamp = stamp;
  change.fields = std::move(fields);
  return change;
}

Change Del(std::string collection, std::string id, std::string origin, uint64_t stamp,
           uint64_t base) {
  Change change = Put(std::move(collection), std::move(id), std::move(origin), stamp, {});
  change.deleted = true;
  change.base = base;
  return change;
}

// "collection/id prefix" -> live records, as Store::ForEachCount reports them.
using CountMap = std::map<std::string, uint64_t>;
CountMap Counts(Store& store) {
  ReadTxn txn(store.env());
  CountMap counts;
  store.ForEachCount(txn, [&](std::string_view collection, std::string_view prefix, uint64_t n) {
    counts[std::string(collection) + "/" + std::string(prefix)] = n;
  });
  return counts;
}

class StoreTest : public ::testing::Test {
 protected:
  StoreTest() : dir_("osrc-store-test") { Open(); }

  static EnvOptions Options() {
    EnvOptions options;
    options.map_size = size_t{64} << 20;
    options.durable = false;
    return options;
  }
  void Open() { store_ = std::make_unique<Store>(dir_.path(), Options()); }
  void Reopen() {
    store_.reset();  // one Env per path per process
    Open();
  }
  MergeResult ApplyCommitted(const Change& change) {
    WriteTxn txn(store_->env());
    MergeResult result = store_->Apply(txn, change);
    txn.Commit();
    return result;
  }
  std::optional<RecordState> Get(std::string_view collection, std::string_view id) {
    ReadTxn txn(store_->env());
    return store_->GetRecord(txn, collection, id);
  }
  // (collection, id) of each record ForEachRecord visits for `collection`.
  std::vector<std::pair<std::string, std::string>> Visit(std::string_view collection) {
    ReadTxn txn(store_->env());
    std::vector<std::pair<std::string, std::string>> seen;
    store_->ForEachRecord(txn, collection,
                          [&](std::string_view c, std::string_view id, const RecordState& state) {
                            EXPECT_TRUE(state.live());
                            seen.emplace_back(c, id);
                          });
    return seen;
  }
  std::vector<StoredConflict> Conflicts() {
    ReadTxn txn(store_->env());
    std::vector<StoredConflict> conflicts;
    store_->ForEachConflict(txn, [&](const StoredConflict& c) { conflicts.push_back(c); });
    EXPECT_EQ(store_->ConflictCount(txn), conflicts.size());
    return conflicts;
  }

  osrc::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

// --- Keys.

TEST(StoreKeysTest, RecordKeySplitsBack) {
  std::string key = RecordKey("participants", "MAS-P0000001");
  EXPECT_EQ(key, std::string("participants\0MAS-P0000001", 25));
  std::string_view collection, id;
  ASSERT_TRUE(SplitRecordKey(key, &collection, &id));
  EXPECT_EQ(collection, "participants");
  EXPECT_EQ(id, "MAS-P0000001");
  EXPECT_FALSE(SplitRecordKey("no separator", &collection, &id));
}

TEST(StoreKeysTest, SeqKeysSortNumerically) {
  std::vector<uint64_t> seqs = {
      0, 1, 255, 256, 65535, 65536, uint64_t{1} << 40, std::numeric_limits<uint64_t>::max()};
  for (size_t i = 1; i < seqs.size(); ++i) {
    EXPECT_LT(SeqKey(seqs[i - 1]), SeqKey(seqs[i])) << seqs[i];
    EXPECT_EQ(SeqKey(seqs[i]).size(), 8u);
  }
}

// --- Records.

TEST_F(StoreTest, AbsentRecordIsNullopt) { EXPECT_FALSE(Get("participants", "MAS-P1")); }

TEST_F(StoreTest, ApplyStoresTheMergedRecord) {
  MergeResult result = ApplyCommitted(
      Put("participants", "MAS-P1", "MAS", 10, {{"given_name", std::string("Ana"), 0}}));
  EXPECT_TRUE(result.changed);
  auto state = Get("participants", "MAS-P1");
  ASSERT_TRUE(state);
  EXPECT_EQ(state->fields.at("given_name").value, protocol::Value(std::string("Ana")));
  EXPECT_EQ(state->fields.at("given_name").version, (Version{10, "MAS", {}}));
  EXPECT_FALSE(Get("participants", "MAS-P2"));
  EXPECT_FALSE(Get("services", "MAS-P1"));
}

TEST_F(StoreTest, ApplyOfALosingChangeReportsNoChange) {
  ApplyCommitted(Put("participants", "MAS-P1", "MAS", 20, {{"phone", std::string("new"), 0}}));
  auto before = Get("participants", "MAS-P1");
  MergeResult result =
      ApplyCommitted(Put("participants", "MAS-P1", "MAS", 10, {{"phone", std::string("old"), 0}}));
  EXPECT_FALSE(result.changed);
  EXPECT_EQ(Get("participants", "MAS-P1"), before);
}

TEST_F(StoreTest, ApplyAgreesWithThePureMerge) {
  constexpr uint64_t kSeed = 99;
  std::mt19937_64 rng(kSeed);
  std::map<std::string, RecordState> expected;
  const char* ids[] = {"MAS-P1", "MAS-P2", "MAS-P3"};
  const char* origins[] = {"HUB", "MAS"};
  for (int round = 0; round < 40; ++round) {
    WriteTxn txn(store_->env());
    for (int i = 0; i < 10; ++i) {
      std::string id = ids[rng() % 3];
      Change change;
      if (rng() % 6 == 0) {
        change = Del("participants", id, origins[rng() % 2], 1 + rng() % 1000, rng() % 1000);
      } else {
        std::vector<Field> fields;
        for (const char* name : {"a", "b", "c"}) {
          if (rng() % 2) fields.push_back({name, static_cast<int64_t>(rng() % 3), rng() % 500});
        }
        change = Put("participants", id, origins[rng() % 2], 1 + rng() % 1000, std::move(fields));
      }
      MergeResult expected_result = Merge(change, &expected[id]);
      MergeResult result = store_->Apply(txn, change);
      ASSERT_EQ(result.changed, expected_result.changed) << "seed " << kSeed << " round " << round;
      ASSERT_EQ(result.conflicts, expected_result.conflicts);
    }
    txn.Commit();
    for (const auto& [id, state] : expected) {
      ASSERT_EQ(Get("participants", id), state) << "seed " << kSeed << " round " << round;
    }
  }
}

TEST_F(StoreTest, CountsFollowEveryMergeDeleteAndErasure) {
  constexpr uint64_t kSeed = 7;
  std::mt19937_64 rng(kSeed);
  const char* ids[] = {"MAS-P1", "MAS-P2", "ANT-P1", "ANT-P2", "QA"};
  for (int round = 0; round < 60; ++round) {
    WriteTxn txn(store_->env());
    for (int i = 0; i < 8; ++i) {
      std::string id = ids[rng() % 5];
      std::string collection = rng() % 2 ? "participants" : "services";
      uint64_t stamp = 1 + rng() % 2000;
      Change change;
      switch (rng() % 10) {
        case 0:
          change = Del(collection, id, "HUB", stamp, 0);
          change.erased = true;
          break;
        case 1:
        case 2:
          change = Del(collection, id, "MAS", stamp, rng() % 2000);
          break;
        default:
          change = Put(collection, id, "MAS", stamp, {{"a", int64_t{1}, rng() % 2000}});
      }
      store_->Apply(txn, change);
    }
    txn.Commit();
    CountMap expected;
    ReadTxn read(store_->env());
    store_->ForEachRecord(
        read, "", [&](std::string_view c, std::string_view id, const RecordState&) {
          size_t dash = id.find('-');
          ++expected[std::string(c) + "/" +
                     std::string(dash == std::string_view::npos ? "" : id.substr(0, dash))];
        });
    ASSERT_EQ(Counts(*store_), expected) << "seed " << kSeed << " round " << round;
  }
}

TEST_F(StoreTest, AbortedTransactionLeavesNothing) {
  {
    WriteTxn txn(store_->env());
    store_->Apply(txn, Put("participants", "MAS-P1", "MAS", 10, {{"a", true, 0}}));
    store_->AppendLog(txn, 1, "bytes");
    store_->PutMeta(txn, "kind", "node");
    // Destroyed without Commit().
  }
  ReadTxn txn(store_->env());
  EXPECT_FALSE(store_->GetRecord(txn, "participants", "MAS-P1"));
  EXPECT_EQ(store_->LogHead(txn), 0u);
  EXPECT_FALSE(store_->GetMeta(txn, "kind"));
}

TEST_F(StoreTest, CommittedDataSurvivesReopen) {
  ApplyCommitted(Put("participants", "MAS-P1", "MAS", 10, {{"a", int64_t{5}, 0}}));
  {
    WriteTxn txn(store_->env());
    store_->AppendLog(txn, 1, "one");
    store_->PutMetaU64(txn, kMetaClock, 1234);
    txn.Commit();
  }
  auto before = Get("participants", "MAS-P1");
  Reopen();
  EXPECT_EQ(Get("participants", "MAS-P1"), before);
  ReadTxn txn(store_->env());
  EXPECT_EQ(store_->LogHead(txn), 1u);
  EXPECT_EQ(store_->GetMetaU64(txn, kMetaClock), 1234u);
}

TEST_F(StoreTest, CorruptRecordBytesThrowCorruption) {
  {
    WriteTxn txn(store_->env());
    txn.Put(store_->records(), RecordKey("participants", "MAS-P1"), "\x01\xff");
    txn.Commit();
  }
  try {
    Get("participants", "MAS-P1");
    FAIL() << "corrupt record decoded";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kCorruption);
  }
}

TEST_F(StoreTest, ForEachRecordVisitsLiveRecordsInKeyOrder) {
  std::vector<std::pair<std::string, std::string>> records = {
      {"a", "MAS-2"}, {"a", "MAS-10"}, {"a", "MAS-1"}, {"ab", "X"}, {"b", "Y"}, {"b", "A"}};
  std::mt19937_64 rng(3);
  std::shuffle(records.begin(), records.end(), rng);
  uint64_t stamp = 10;
  for (const auto& [collection, id] : records) {
    ApplyCommitted(Put(collection, id, "MAS", ++stamp, {{"f", std::string(id), 0}}));
  }
  std::sort(records.begin(), records.end());
  EXPECT_EQ(Visit(""), records);
  using Records = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(Visit("a"), (Records{{"a", "MAS-1"}, {"a", "MAS-10"}, {"a", "MAS-2"}}));
  EXPECT_EQ(Visit("ab"), (Records{{"ab", "X"}}));  // "a" is not a prefix match
  EXPECT_EQ(Visit("b"), (Records{{"b", "A"}, {"b", "Y"}}));
  EXPECT_TRUE(Visit("c").empty());
  EXPECT_TRUE(Visit("aa").empty());
}

TEST_F(StoreTest, ForEachRecordSkipsDeletedRecords) {
  ApplyCommitted(Put("a", "1", "MAS", 10, {{"f", true, 0}}));
  ApplyCommitted(Put("a", "2", "MAS", 11, {{"f", true, 0}}));
  ApplyCommitted(Put("a", "3", "MAS", 12, {{"f", true, 0}}));
  ApplyCommitted(Del("a", "2", "MAS", 13, 11));
  using Records = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(Visit("a"), (Records{{"a", "1"}, {"a", "3"}}));
  auto deleted = Get("a", "2");
  ASSERT_TRUE(deleted);  // the tombstone stays
  EXPECT_FALSE(deleted->live());
  // A later write revives it.
  ApplyCommitted(Put("a", "2", "MAS", 14, {{"f", false, 0}}));
  EXPECT_EQ(Visit("a"), (Records{{"a", "1"}, {"a", "2"}, {"a", "3"}}));
}

// --- Log.

TEST_F(StoreTest, EmptyLogHeadIsZero) {
  ReadTxn txn(store_->env());
  EXPECT_EQ(store_->LogHead(txn), 0u);
  EXPECT_FALSE(store_->GetLog(txn, 1));
}

TEST_F(StoreTest, LogAppendsAndReadsBackInSequence) {
  {
    WriteTxn txn(store_->env());
    for (uint64_t seq = 1; seq <= 300; ++seq) {
      store_->AppendLog(txn, seq, "change " + std::to_string(seq));
    }
    txn.Commit();
  }
  ReadTxn txn(store_->env());
  EXPECT_EQ(store_->LogHead(txn), 300u);  // past 255: big-endian keys sort numerically
  for (uint64_t seq : {1, 2, 255, 256, 300}) {
    auto bytes = store_->GetLog(txn, seq);
    ASSERT_TRUE(bytes) << seq;
    EXPECT_EQ(*bytes, "change " + std::to_string(seq));
  }
  EXPECT_FALSE(store_->GetLog(txn, 301));
  EXPECT_FALSE(store_->GetLog(txn, 0));
}

TEST_F(StoreTest, LogIsWalkedInOrderFromAnySequenceAndAGapIsCorruption) {
  {
    WriteTxn txn(store_->env());
    for (uint64_t seq = 1; seq <= 300; ++seq) {
      store_->AppendLog(txn, seq, "change " + std::to_string(seq));
    }
    txn.Commit();
  }
  std::vector<uint64_t> seen;
  {
    ReadTxn txn(store_->env());
    store_->ForEachLog(txn, 254, [&](uint64_t seq, std::string_view bytes) {
      EXPECT_EQ(bytes, "change " + std::to_string(seq));
      seen.push_back(seq);
      return seq < 257;
    });
  }
  EXPECT_EQ(seen, (std::vector<uint64_t>{254, 255, 256, 257}));
  {
    WriteTxn txn(store_->env());
    txn.Del(store_->log().dbi(), SeqKey(290));  // in the block not yet full
    txn.Commit();
  }
  ReadTxn txn(store_->env());
  EXPECT_THROW(store_->ForEachLog(txn, 150, [](uint64_t, std::string_view) { return true; }),
               Error);
}

TEST_F(StoreTest, LogKeepsBinaryBytes) {
  std::string bytes("\0\x01\xff\0", 4);
  WriteTxn txn(store_->env());
  store_->AppendLog(txn, 1, bytes);
  EXPECT_EQ(store_->GetLog(txn, 1), bytes);
}

TEST_F(StoreTest, LogRejectsAnOutOfOrderAppend) {
  WriteTxn txn(store_->env());
  store_->AppendLog(txn, 5, "five");
  EXPECT_THROW(store_->AppendLog(txn, 5, "again"), Error);
  EXPECT_THROW(store_->AppendLog(txn, 4, "four"), Error);
  EXPECT_EQ(store_->LogHead(txn), 5u);
  EXPECT_EQ(store_->GetLog(txn, 5), "five");
}

// --- Meta.

TEST_F(StoreTest, MetaRoundTrips) {
  WriteTxn txn(store_->env());
  EXPECT_FALSE(store_->GetMeta(txn, kMetaKind));
  store_->PutMeta(txn, kMetaKind, "node");
  store_->PutMeta(txn, kMetaOrigin, "MAS");
  EXPECT_EQ(store_->GetMeta(txn, kMetaKind), "node");
  store_->PutMeta(txn, kMetaKind, "hub");
  EXPECT_EQ(store_->GetMeta(txn, kMetaKind), "hub");
  EXPECT_EQ(store_->GetMeta(txn, kMetaOrigin), "MAS");
}

TEST_F(StoreTest, MetaU64RoundTripsAndFallsBack) {
  WriteTxn txn(store_->env());
  EXPECT_EQ(store_->GetMetaU64(txn, kMetaAcked), 0u);
  EXPECT_EQ(store_->GetMetaU64(txn, kMetaAcked, 77), 77u);
  for (uint64_t value :
       {uint64_t{0}, uint64_t{1}, uint64_t{1} << 48, std::numeric_limits<uint64_t>::max()}) {
    store_->PutMetaU64(txn, kMetaAcked, value);
    EXPECT_EQ(store_->GetMetaU64(txn, kMetaAcked, 77), value);
  }
  // Negative offsets travel as two's complement.
  store_->PutMetaU64(txn, kMetaClockOffset, static_cast<uint64_t>(int64_t{-250}));
  EXPECT_EQ(static_cast<int64_t>(store_->GetMetaU64(txn, kMetaClockOffset)), -250);
  // Not 8 bytes: the fallback.
  store_->PutMeta(txn, kMetaCursor, "short");
  EXPECT_EQ(store_->GetMetaU64(txn, kMetaCursor, 9), 9u);
}

// --- Conflicts.

TEST_F(StoreTest, ConflictsArePersistedAndListed) {
  ApplyCommitted(Put("participants", "MAS-P1", "MAS", 10, {{"phone", std::string("111"), 0}}));
  MergeResult result =
      ApplyCommitted(Put("participants", "MAS-P1", "HUB", 20, {{"phone", std::string("222"), 0}}));
  ASSERT_EQ(result.conflicts.size(), 1u);
  Reopen();
  std::vector<StoredConflict> conflicts = Conflicts();
  ASSERT_EQ(conflicts.size(), 1u);
  const StoredConflict& stored = conflicts[0];
  EXPECT_EQ(stored.collection, "participants");
  EXPECT_EQ(stored.id, "MAS-P1");
  EXPECT_EQ(stored.conflict, result.conflicts[0]);
  EXPECT_EQ(stored.conflict.field, "phone");
  EXPECT_EQ(stored.conflict.winner, (Version{20, "HUB", {}}));
  EXPECT_EQ(stored.conflict.winner_value, protocol::Value(std::string("222")));
  EXPECT_EQ(stored.conflict.loser, (Version{10, "MAS", {}}));
  EXPECT_EQ(stored.conflict.loser_value, protocol::Value(std::string("111")));
}

TEST_F(StoreTest, TheSameLoserIsKeptOnce) {
  Change loser = Put("participants", "MAS-P1", "MAS", 10, {{"phone", std::string("111"), 0}});
  ApplyCommitted(Put("participants", "MAS-P1", "HUB", 20, {{"phone", std::string("222"), 0}}));
  EXPECT_EQ(ApplyCommitted(loser).conflicts.size(), 1u);
  EXPECT_EQ(ApplyCommitted(loser).conflicts.size(), 1u);  // a duplicate delivery
  EXPECT_EQ(Conflicts().size(), 1u);
}

TEST_F(StoreTest, LosersWithEqualStampsFromTwoOriginsAreBothKept) {
  ApplyCommitted(Put("participants", "MAS-P1", "MAS", 10, {{"phone", std::string("mas"), 0}}));
  ApplyCommitted(Put("participants", "MAS-P1", "MNL", 10, {{"phone", std::string("mnl"), 0}}));
  ApplyCommitted(Put("participants", "MAS-P1", "HUB", 20, {{"phone", std::string("hub"), 0}}));
  std::vector<StoredConflict> conflicts = Conflicts();
  ASSERT_EQ(conflicts.size(), 2u);
  EXPECT_EQ(conflicts[0].conflict.loser, (Version{10, "MAS", {}}));
  EXPECT_EQ(conflicts[1].conflict.loser, (Version{10, "MNL", {}}));
  EXPECT_EQ(conflicts[1].conflict.winner, (Version{20, "HUB", {}}));
}

TEST_F(StoreTest, DeleteConflictsAreListedWithTheirRecord) {
  ApplyCommitted(Put("participants", "MAS-P1", "MAS", 30,
                     {{"family_name", std::string("Cruz"), 0}, {"phone", std::string("1"), 0}}));
  ApplyCommitted(Put("services", "MAS-S1", "MAS", 31, {{"notes", std::string("n"), 0}}));
  ApplyCommitted(Del("participants", "MAS-P1", "HUB", 40, /*base=*/5));
  std::vector<StoredConflict> conflicts = Conflicts();
  ASSERT_EQ(conflicts.size(), 2u);
  // Listed in key order: collection, id, field.
  EXPECT_EQ(conflicts[0].conflict.field, "family_name");
  EXPECT_EQ(conflicts[1].conflict.field, "phone");
  for (const StoredConflict& stored : conflicts) {
    EXPECT_EQ(stored.collection, "participants");
    EXPECT_EQ(stored.id, "MAS-P1");
    EXPECT_TRUE(stored.conflict.winner_deleted);
    EXPECT_EQ(stored.conflict.winner, (Version{40, "HUB", {5, ""}}));
    EXPECT_EQ(stored.conflict.loser, (Version{30, "MAS", {}}));
  }
  EXPECT_EQ(conflicts[0].conflict.loser_value, protocol::Value(std::string("Cruz")));
}

TEST_F(StoreTest, NoConflictsWhenWritersSawEachOther) {
  ApplyCommitted(Put("participants", "MAS-P1", "MAS", 10, {{"phone", std::string("111"), 0}}));
  ApplyCommitted(
      Put("participants", "MAS-P1", "HUB", 20, {{"phone", std::string("222"), 10, "MAS"}}));
  EXPECT_TRUE(Conflicts().empty());
}

// --- Feed.

// (feed seq, id) of every feed entry, in order.
std::vector<std::pair<uint64_t, std::string>> Feed(Store& store) {
  ReadTxn txn(store.env());
  std::vector<std::pair<uint64_t, std::string>> entries;
  store.ForEachFeed(txn, 0, SIZE_MAX, [&](uint64_t seq, std::string_view, std::string_view id) {
    entries.emplace_back(seq, std::string(id));
  });
  return entries;
}

// A store that keeps the feed (a hub's once a mirror has run).
class FeedTest : public StoreTest {
 protected:
  void SetUp() override {
    store_.reset();  // one Env per path per process
    store_ = std::make_unique<Store>(dir_.path(), Options(), Store::Feed::kKeep);
  }
};

TEST_F(StoreTest, NodeStoreKeepsNoFeed) {
  ApplyCommitted(Put("participants", "MAS-P1", "MAS", 10, {{"a", std::string("x"), 0}}));
  EXPECT_FALSE(store_->keeps_feed());
  EXPECT_TRUE(Feed(*store_).empty());
}

// A running hub keeps no feed until a mirror, another process, starts it: the mirror's start
// lists every record held, and from its commit on every merge of the hub lists its record.
TEST_F(StoreTest, AFeedStartedByAnotherProcessIsKeptFromItsCommitOn) {
  ApplyCommitted(Put("participants", "MAS-P1", "MAS", 10, {{"a", std::string("x"), 0}}));
  {
    WriteTxn txn(store_->env());
    store_->Apply(txn, Put("participants", "MAS-P2", "MAS", 11, {{"a", std::string("y"), 0}}));
    // Not committed: this transaction's id comes again, and must not be taken for one that
    // looked after the feed started.
  }
  EXPECT_FALSE(store_->keeps_feed());
  {
    // The mark of the mirror's start (Store::OpenFeed), written as another process would.
    WriteTxn txn(store_->env());
    txn.Put(store_->meta(), kMetaFeed, "1");
    txn.Commit();
  }
  ApplyCommitted(Put("participants", "MAS-P3", "MAS", 12, {{"a", std::string("z"), 0}}));
  ApplyCommitted(Put("participants", "MAS-P1", "MAS", 13, {{"a", std::string("w"), 10}}));
  EXPECT_TRUE(store_->keeps_feed());
  using Entries = std::vector<std::pair<uint64_t, std::string>>;
  EXPECT_EQ(Feed(*store_), (Entries{{1, "MAS-P3"}, {2, "MAS-P1"}}));
}

// MAS-P00001 for 1.
std::string ParticipantId(int number) {
  char id[16];
  std::snprintf(id, sizeof id, "MAS-P%05d", number % 100000);
  return id;
}

// `count` participants MAS-P00001.. in one transaction.
void ApplyParticipants(Store& store, int count) {
  WriteTxn txn(store.env());
  for (int i = 1; i <= count; ++i) {
    store.Apply(txn, Put("participants", ParticipantId(i), "MAS", 10 + static_cast<uint64_t>(i),
                         {{"a", std::string("x"), 0}}));
  }
  txn.Commit();
}

// The mirror's first start lists a chunk of records per transaction (20,000): none is lost or
// listed twice across the chunks.
TEST_F(StoreTest, AFeedStartsWithEveryRecordOnceInKeyOrderAcrossChunks) {
  constexpr int kRecords = 45001;
  ApplyParticipants(*store_, kRecords);
  store_.reset();  // one Env per path per process
  Store store(dir_.path(), Options(), Store::Feed::kKeep);
  std::vector<std::pair<uint64_t, std::string>> feed = Feed(store);
  ASSERT_EQ(feed.size(), static_cast<size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_EQ(feed[i], std::make_pair(static_cast<uint64_t>(i + 1), ParticipantId(i + 1)));
  }
  ReadTxn txn(store.env());
  EXPECT_FALSE(store.GetMeta(txn, kMetaFeedFrom).has_value());
}

// A start interrupted after its first chunks resumes from the next record to list, and merges
// meanwhile list their records as in a feed already started.
TEST_F(StoreTest, AnInterruptedFeedStartResumesWhereItStopped) {
  ApplyParticipants(*store_, 5);
  {
    // As a mirror stopped after listing MAS-P00001..2 would leave it (their entries left out
    // here, to show they are not listed again).
    WriteTxn txn(store_->env());
    txn.Put(store_->meta(), kMetaFeed, "1");
    txn.Put(store_->meta(), kMetaFeedFrom, RecordKey("participants", "MAS-P00003"));
    txn.Commit();
  }
  ApplyCommitted(Put("participants", "MAS-P00001", "MAS", 50, {{"a", std::string("y"), 11}}));
  ApplyCommitted(Put("participants", "MAS-P00004", "MAS", 51, {{"a", std::string("y"), 14}}));
  store_.reset();
  Store store(dir_.path(), Options(), Store::Feed::kKeep);
  using Entries = std::vector<std::pair<uint64_t, std::string>>;
  EXPECT_EQ(Feed(store),
            (Entries{{1, "MAS-P00001"}, {3, "MAS-P00003"}, {4, "MAS-P00004"}, {5, "MAS-P00005"}}));
  ReadTxn txn(store.env());
  EXPECT_FALSE(store.GetMeta(txn, kMetaFeedFrom).has_value());
}

TEST_F(FeedTest, FeedListsEachChangedRecordOnceAtItsLatestChange) {
  ApplyCommitted(Put("participants", "MAS-P1", "MAS", 10, {{"a", std::string("x"), 0}}));
  ApplyCommitted(Put("participants", "MAS-P2", "MAS", 11, {{"a", std::string("y"), 0}}));
  ApplyCommitted(Put("participants", "MAS-P1", "MAS", 12, {{"a", std::string("z"), 10}}));
  ApplyCommitted(Del("participants", "MAS-P2", "HUB", 13, 11));
  using Entries = std::vector<std::pair<uint64_t, std::string>>;
  EXPECT_EQ(Feed(*store_), (Entries{{3, "MAS-P1"}, {4, "MAS-P2"}}));
  // A change the merge drops (older than what is held) does not move its record.
  ApplyCommitted(Put("participants", "MAS-P1", "MAS", 5, {{"a", std::string("old"), 0}}));
  EXPECT_EQ(Feed(*store_), (Entries{{3, "MAS-P1"}, {4, "MAS-P2"}}));
  ReadTxn txn(store_->env());
  EXPECT_EQ(store_->FeedHead(txn), 4u);
  Entries after;
  store_->ForEachFeed(txn, 3, 10, [&](uint64_t seq, std::string_view, std::string_view id) {
    after.emplace_back(seq, std::string(id));
  });
  EXPECT_EQ(after, (Entries{{4, "MAS-P2"}}));
}

TEST_F(FeedTest, ChangingTheLastRecordAgainMovesItPastWhatAReaderSaw) {
  ApplyCommitted(Put("participants", "MAS-P1", "MAS", 10, {{"a", std::string("x"), 0}}));
  ApplyCommitted(Put("participants", "MAS-P2", "MAS", 11, {{"a", std::string("y"), 0}}));
  // A reader has seen seq 2 (MAS-P2); MAS-P2 changes again: its new seq must be above 2.
  ApplyCommitted(Put("participants", "MAS-P2", "MAS", 12, {{"a", std::string("z"), 11}}));
  using Entries = std::vector<std::pair<uint64_t, std::string>>;
  EXPECT_EQ(Feed(*store_), (Entries{{1, "MAS-P1"}, {3, "MAS-P2"}}));
}

TEST_F(FeedTest, FeedSurvivesReopeningWithoutAsking) {
  ApplyCommitted(Put("participants", "MAS-P1", "MAS", 10, {{"a", std::string("x"), 0}}));
  Reopen();  // Feed::kNone, as a tool that does not ask: the store still keeps its feed
  ApplyCommitted(Put("participants", "MAS-P2", "MAS", 11, {{"a", std::string("y"), 0}}));
  using Entries = std::vector<std::pair<uint64_t, std::string>>;
  EXPECT_EQ(Feed(*store_), (Entries{{1, "MAS-P1"}, {2, "MAS-P2"}}));
}

TEST_F(FeedTest, AbortedMergeLeavesTheFeedAsItWas) {
  ApplyCommitted(Put("participants", "MAS-P1", "MAS", 10, {{"a", std::string("x"), 0}}));
  {
    WriteTxn txn(store_->env());
    store_->Apply(txn, Put("participants", "MAS-P2", "MAS", 11, {{"a", std::string("y"), 0}}));
  }  // not committed
  using Entries = std::vector<std::pair<uint64_t, std::string>>;
  EXPECT_EQ(Feed(*store_), (Entries{{1, "MAS-P1"}}));
}

// --- Store format.

// Format 1, as the release before store formats wrote it: a base is a bare stamp.
//   version := stamp origin base          seen := name stamp
void AppendVersionV1(std::string* out, uint64_t stamp, std::string_view origin, uint64_t base) {
  AppendVarint(out, stamp);
  AppendString(out, origin);
  AppendVarint(out, base);
}

std::string FieldsV1(
    const std::vector<std::tuple<std::string, uint64_t, std::string, uint64_t, Value>>& fields) {
  std::string out;
  AppendVarint(&out, fields.size());
  for (const auto& [name, stamp, origin, base, value] : fields) {
    AppendString(&out, name);
    AppendVersionV1(&out, stamp, origin, base);
    AppendValue(&out, value);
  }
  return out;
}

// A record state in the layout of formats 2 to 4: each field with its own version.
std::string EncodeBeforeFormat5(const RecordState& state) {
  std::string out(1, state.tombstone ? 1 : 0);
  if (state.tombstone) {
    AppendVersion(&out, *state.tombstone);
    AppendVarint(&out, state.tomb_seen.size());
    for (const auto& [name, base] : state.tomb_seen) {
      AppendString(&out, name);
      AppendBase(&out, base);
    }
  }
  AppendVarint(&out, state.fields.size());
  for (const auto& [name, field] : state.fields) {
    AppendString(&out, name);
    AppendVersion(&out, field.version);
    AppendValue(&out, field.value);
  }
  return out;
}

// Rewrites every record of the raw store in the layout before format 5 and marks it `format`.
void Downgrade(Dbi records, Dbi meta, WriteTxn& txn, uint64_t format) {
  std::vector<std::pair<std::string, std::string>> old;
  {
    Cursor cursor(txn, records);
    for (bool more = cursor.First(); more; more = cursor.Next()) {
      old.emplace_back(cursor.key(), EncodeBeforeFormat5(DecodeRecordState(cursor.value())));
    }
  }
  for (const auto& [key, value] : old) txn.Put(records, key, value);
  txn.Put(meta, kMetaFormat, SeqKey(format));
}

class StoreFormatTest : public ::testing::Test {
 protected:
  static EnvOptions Options() {
    EnvOptions options;
    options.map_size = size_t{64} << 20;
    options.durable = false;
    return options;
  }

  // Builds a format 1 data folder as the previous release left it: two records (one deleted),
  // one conflict, no format in meta.
  void WriteVersionOneStore() {
    Env env(dir_.path(), Options());
    Dbi records = env.OpenDbi("records");
    Dbi meta = env.OpenDbi("meta");
    Dbi conflicts = env.OpenDbi("conflicts");
    WriteTxn txn(env);
    // MAS-P1: a = "x" by MAS@10; b = 7 by MNL@12, whose writer saw stamp 10.
    std::string live(1, '\0');
    live += FieldsV1({{"a", 10, "MAS", 0, std::string("x")}, {"b", 12, "MNL", 10, int64_t{7}}});
    txn.Put(records, RecordKey("participants", "MAS-P1"), live);
    // MAS-P2: deleted by HUB@30 (record base 20), which saw field a at stamp 20.
    std::string deleted(1, '\1');
    AppendVersionV1(&deleted, 30, "HUB", 20);
    AppendVarint(&deleted, 1);
    AppendString(&deleted, "a");
    AppendVarint(&deleted, 20);
    deleted += FieldsV1({});
    txn.Put(records, RecordKey("participants", "MAS-P2"), deleted);
    // MNL@5's a = "old" lost to MAS@10's "x", unseen.
    std::string key = RecordKey("participants", "MAS-P1");
    key += std::string("\0a\0", 3);
    AppendBigEndian64(&key, 5);
    key += "MNL";
    std::string conflict;
    AppendVersionV1(&conflict, 10, "MAS", 0);
    conflict.push_back(0);
    AppendValue(&conflict, std::string("x"));
    AppendVersionV1(&conflict, 5, "MNL", 0);
    AppendValue(&conflict, std::string("old"));
    txn.Put(conflicts, key, conflict);
    txn.Put(meta, kMetaKind, "node");
    txn.Put(meta, kMetaOrigin, "MAS");
    txn.Commit();
  }

  // Marks the folder's store as of `format`, written by `kind`.
  void WriteFormat(std::string_view kind, uint64_t format) {
    Env env(dir_.path(), Options());
    Dbi meta = env.OpenDbi("meta");
    WriteTxn txn(env);
    txn.Put(meta, kMetaKind, kind);
    txn.Put(meta, kMetaFormat, SeqKey(format));
    txn.Commit();
  }

  // The message opening the store throws, or "" if it opens.
  std::string OpenError() {
    try {
      Store store(dir_.path(), Options());
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kVersion);
      return e.what();
    }
    return "";
  }

  osrc::testing::TempDir dir_{"osrc-store-format-test"};
};

TEST_F(StoreFormatTest, NewStoreIsInTheCurrentFormat) {
  Store store(dir_.path(), Options());
  ReadTxn txn(store.env());
  EXPECT_EQ(store.GetMetaU64(txn, kMetaFormat), kStoreFormat);
  EXPECT_EQ(kStoreFormat, 6u);
}

TEST_F(StoreFormatTest, VersionOneStoreIsMigratedOnOpen) {
  WriteVersionOneStore();
  Store store(dir_.path(), Options(), Store::Feed::kKeep);  // as the mirror opens a hub's store
  {
    ReadTxn txn(store.env());
    EXPECT_EQ(store.GetMetaU64(txn, kMetaFormat), 6u);
    EXPECT_EQ(store.GetMeta(txn, kMetaOrigin), "MAS");
    EXPECT_EQ(Counts(store), (CountMap{{"participants/MAS", 1}}));  // MAS-P2 is deleted
    // Old bases keep their stamp with an unknown (empty) origin.
    RecordState live;
    live.fields["a"] = FieldState{std::string("x"), Version{10, "MAS", {}}};
    live.fields["b"] = FieldState{int64_t{7}, Version{12, "MNL", {10, ""}}};
    EXPECT_EQ(store.GetRecord(txn, "participants", "MAS-P1"), live);
    RecordState deleted;
    deleted.tombstone = Version{30, "HUB", {20, ""}};
    deleted.tomb_seen["a"] = Base{20, ""};
    EXPECT_EQ(store.GetRecord(txn, "participants", "MAS-P2"), deleted);
    std::vector<StoredConflict> conflicts;
    store.ForEachConflict(txn, [&](const StoredConflict& c) { conflicts.push_back(c); });
    ASSERT_EQ(conflicts.size(), 1u);
    EXPECT_EQ(conflicts[0].id, "MAS-P1");
    // The feed starts with every record, the deleted one too.
    EXPECT_EQ(store.FeedHead(txn), 2u);
    EXPECT_EQ(conflicts[0].conflict, (Conflict{"a", Version{10, "MAS", {}}, false, std::string("x"),
                                               Version{5, "MNL", {}}, std::string("old")}));
  }
  // The migrated records merge by the exact rules: HUB saw MNL@12's b, but not MAS@10's a.
  WriteTxn txn(store.env());
  Change seen = Put("participants", "MAS-P1", "HUB", 40, {{"b", int64_t{8}, 12, "MNL"}});
  EXPECT_TRUE(store.Apply(txn, seen).conflicts.empty());
  Change unseen = Put("participants", "MAS-P1", "HUB", 41, {{"a", std::string("z"), 10, "MNL"}});
  MergeResult result = store.Apply(txn, unseen);
  ASSERT_EQ(result.conflicts.size(), 1u);
  EXPECT_EQ(result.conflicts[0].loser, (Version{10, "MAS", {}}));
  // A late write the old delete did not see is kept as a conflict too.
  Change late = Put("participants", "MAS-P2", "MNL", 25, {{"a", std::string("late"), 0}});
  EXPECT_EQ(store.Apply(txn, late).conflicts.size(), 1u);
  txn.Commit();
}

TEST_F(StoreFormatTest, MigratedStoreOpensUnchanged) {
  WriteVersionOneStore();
  std::string bytes;
  {
    Store store(dir_.path(), Options());
    ReadTxn txn(store.env());
    bytes = EncodeRecordState(*store.GetRecord(txn, "participants", "MAS-P1"));
  }
  Store store(dir_.path(), Options());
  ReadTxn txn(store.env());
  EXPECT_EQ(EncodeRecordState(*store.GetRecord(txn, "participants", "MAS-P1")), bytes);
  EXPECT_EQ(store.ConflictCount(txn), 1u);
}

TEST_F(StoreFormatTest, EveryRecordOfALargeStoreIsMigrated) {
  constexpr int kRecords = 10000;  // more than one chunk of the migration
  {
    Env env(dir_.path(), Options());
    Dbi records = env.OpenDbi("records");
    WriteTxn txn(env);
    for (int i = 0; i < kRecords; ++i) {
      std::string state(1, '\0');
      state += FieldsV1({{"n", 100 + static_cast<uint64_t>(i), "MAS", 7, int64_t{i}}});
      txn.Put(records, RecordKey("participants", "MAS-P" + std::to_string(100000 + i)), state);
    }
    txn.Commit();
  }
  Store store(dir_.path(), Options());
  ReadTxn txn(store.env());
  int visited = 0;
  store.ForEachRecord(
      txn, "participants", [&](std::string_view, std::string_view id, const RecordState& state) {
        const FieldState& field = state.fields.at("n");
        EXPECT_EQ(field.value, Value(int64_t{visited})) << id;
        EXPECT_EQ(field.version, (Version{100 + static_cast<uint64_t>(visited), "MAS", {7, ""}}));
        ++visited;
      });
  EXPECT_EQ(visited, kRecords);
}

TEST_F(StoreFormatTest, VersionTwoHubStoreGainsAFeedOfEveryRecord) {
  {
    Store store(dir_.path(), Options(), Store::Feed::kKeep);
    WriteTxn txn(store.env());
    store.Apply(txn, Put("participants", "MAS-P2", "MAS", 10, {{"a", std::string("x"), 0}}));
    store.Apply(txn, Put("participants", "MAS-P1", "MAS", 11, {{"a", std::string("y"), 0}}));
    store.Apply(txn, Del("participants", "MAS-P2", "HUB", 12, 10));
    txn.Commit();
  }
  {
    // As a format 2 store left it: no feed.
    Env env(dir_.path(), Options());
    Dbi feed = env.OpenDbi("feed"), feedpos = env.OpenDbi("feedpos"), meta = env.OpenDbi("meta");
    Dbi records = env.OpenDbi("records");
    WriteTxn txn(env);
    EXPECT_EQ(mdb_drop(txn.raw(), feed, 0), 0);
    EXPECT_EQ(mdb_drop(txn.raw(), feedpos, 0), 0);
    EXPECT_TRUE(txn.Del(meta, kMetaFeed));
    Downgrade(records, meta, txn, 2);
    txn.Commit();
  }
  Store store(dir_.path(), Options(), Store::Feed::kKeep);
  using Entries = std::vector<std::pair<uint64_t, std::string>>;
  EXPECT_EQ(Feed(store), (Entries{{1, "MAS-P1"}, {2, "MAS-P2"}}));  // key order, tombstones too
  ReadTxn txn(store.env());
  EXPECT_EQ(store.GetMetaU64(txn, kMetaFormat), 6u);
}

TEST_F(StoreFormatTest, VersionThreeStoreGainsCountsOfItsLiveRecords) {
  {
    Store store(dir_.path(), Options());
    WriteTxn txn(store.env());
    store.Apply(txn, Put("participants", "MAS-P1", "MAS", 10, {{"a", std::string("x"), 0}}));
    store.Apply(txn, Put("participants", "MAS-P2", "MAS", 11, {{"a", std::string("y"), 0}}));
    store.Apply(txn, Put("services", "ANT-S1", "ANT", 12, {{"a", std::string("z"), 0}}));
    store.Apply(txn, Put("countries", "QA", "HUB", 13, {{"name", std::string("Qatar"), 0}}));
    store.Apply(txn, Del("participants", "MAS-P2", "HUB", 14, 11));
    txn.Commit();
  }
  {
    // As a format 3 build left it: no counts, or counts it did not keep up to date.
    Env env(dir_.path(), Options());
    Dbi counts = env.OpenDbi("counts"), records = env.OpenDbi("records"),
        meta = env.OpenDbi("meta");
    WriteTxn txn(env);
    EXPECT_EQ(mdb_drop(txn.raw(), counts, 0), 0);
    std::string stale;
    AppendBigEndian64(&stale, 99);
    txn.Put(counts, RecordKey("trainings", "MAG"), stale);
    Downgrade(records, meta, txn, 3);
    txn.Commit();
  }
  Store store(dir_.path(), Options());
  EXPECT_EQ(Counts(store),
            (CountMap{{"countries/", 1}, {"participants/MAS", 1}, {"services/ANT", 1}}));
}

TEST_F(StoreFormatTest, VersionFourRecordsAreReencodedWithTheirCommonVersion) {
  RecordState mixed;  // two fields written together, one later by another writer
  mixed.fields["a"] = FieldState{std::string("x"), Version{10, "MAS", {3, "MNL"}}};
  mixed.fields["b"] = FieldState{int64_t{-7}, Version{10, "MAS", {3, "MNL"}}};
  mixed.fields["c"] = FieldState{2.5, Version{12, "MNL", {10, "MAS"}}};
  RecordState deleted;
  deleted.tombstone = Version{30, "HUB", {20, "MAS"}};
  deleted.tomb_seen["a"] = Base{20, "MAS"};
  {
    Env env(dir_.path(), Options());
    Dbi records = env.OpenDbi("records"), meta = env.OpenDbi("meta");
    WriteTxn txn(env);
    txn.Put(records, RecordKey("participants", "MAS-P1"), EncodeBeforeFormat5(mixed));
    txn.Put(records, RecordKey("participants", "MAS-P2"), EncodeBeforeFormat5(deleted));
    txn.Put(meta, kMetaFormat, SeqKey(4));
    txn.Commit();
  }
  Store store(dir_.path(), Options());
  ReadTxn txn(store.env());
  EXPECT_EQ(store.GetRecord(txn, "participants", "MAS-P1"), mixed);
  EXPECT_EQ(store.GetRecord(txn, "participants", "MAS-P2"), deleted);
  auto bytes = txn.Get(store.records(), RecordKey("participants", "MAS-P1"));
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, EncodeRecordState(mixed));
  EXPECT_LT(bytes->size(), EncodeBeforeFormat5(mixed).size());
}

TEST_F(StoreFormatTest, NewerStoreIsRefusedNamingBothVersions) {
  WriteFormat("node", 7);
  EXPECT_EQ(OpenError(),
            "store format 7 is newer than this osrc-node supports (6): upgrade osrc-node");
  WriteFormat("hub", 8);  // never migrated down
  EXPECT_EQ(OpenError(),
            "store format 8 is newer than this osrc-hub supports (6): upgrade osrc-hub");
}

TEST_F(StoreFormatTest, VersionFiveLogIsSealedInBlocksWithEveryEntryKept) {
  constexpr uint64_t kEntries = 2 * kLogBlockEntries + 5;
  auto entry = [](uint64_t seq) { return "change " + std::to_string(seq); };
  {
    // As a format 5 build left it: every entry under its own key.
    Env env(dir_.path(), Options());
    Dbi log = env.OpenDbi("log"), meta = env.OpenDbi("meta");
    WriteTxn txn(env);
    for (uint64_t seq = 1; seq <= kEntries; ++seq) txn.Put(log, SeqKey(seq), entry(seq));
    txn.Put(meta, kMetaFormat, SeqKey(5));
    txn.Commit();
  }
  Store store(dir_.path(), Options());
  ReadTxn txn(store.env());
  EXPECT_EQ(store.GetMetaU64(txn, kMetaFormat), kStoreFormat);
  EXPECT_EQ(txn.Count(store.log().dbi()), 2 + 5u);  // two blocks, five entries
  uint64_t expected = 1;
  store.ForEachLog(txn, 1, [&](uint64_t seq, std::string_view bytes) {
    EXPECT_EQ(seq, expected++);
    EXPECT_EQ(bytes, entry(seq));
    return true;
  });
  EXPECT_EQ(expected, kEntries + 1);
}

}  // namespace
}  // namespace osrc::storage

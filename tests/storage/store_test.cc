// Tests of the LMDB store (storage/store.h) in a temporary folder: records, the change log,
// meta values and conflicts.
#include "storage/store.h"

#include <gtest/gtest.h>

#include <algorithm>
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

}  // namespace
}  // namespace osrc::storage

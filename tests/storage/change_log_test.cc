// Tests of storage::ChangeLog (storage/change_log.h): entries sealed in compressed blocks once
// their block is full read back exactly, by sequence, in order from anywhere, and rewritten in
// place; a damaged or missing block is corruption naming it.
#include "storage/change_log.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "protocol/change.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace osrc::storage {
namespace {

// A participant's change as a site logs it: names repeat from entry to entry, values vary.
std::string Entry(uint64_t seq) {
  std::string n = std::to_string(seq);
  protocol::Change change("participants", "MAS-P" + n, "MAS", seq, 1'000'000 + seq, 0, false,
                          {{"birth_date", "1980-01-" + std::to_string(1 + seq % 28), 0},
                           {"family_name", "Family " + n, 0},
                           {"given_name", "Given " + std::to_string(seq * 7919 % 1000), 0},
                           {"municipality", std::string("Masbate City"), 0},
                           {"phone", "0917" + std::to_string(1000000 + seq * 104729 % 9000000), 0},
                           {"sex", std::string(seq % 2 ? "F" : "M"), 0}});
  return protocol::EncodeChange(change);
}

class ChangeLogTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kEntries = 2 * kLogBlockEntries + 10;

  ChangeLogTest() : dir_("osrc-change-log-test") {
    EnvOptions options;
    options.map_size = size_t{16} << 20;
    options.durable = false;
    store_ = std::make_unique<Store>(dir_.path(), options);
    // Three transactions whose ends fall inside blocks.
    for (auto [from, to] : {std::pair<uint64_t, uint64_t>{1, 40}, {41, 100}, {101, kEntries}}) {
      WriteTxn txn(store_->env());
      for (uint64_t seq = from; seq <= to; ++seq) store_->AppendLog(txn, seq, Entry(seq));
      txn.Commit();
    }
  }

  std::vector<uint64_t> WalkFrom(uint64_t first) {
    ReadTxn txn(store_->env());
    std::vector<uint64_t> seen;
    store_->ForEachLog(txn, first, [&](uint64_t seq, std::string_view bytes) {
      EXPECT_EQ(bytes, Entry(seq)) << seq;
      seen.push_back(seq);
      return true;
    });
    return seen;
  }

  // Every key and value size of the log table.
  std::vector<std::pair<std::string, size_t>> Raw() {
    ReadTxn txn(store_->env());
    std::vector<std::pair<std::string, size_t>> raw;
    Cursor cursor(txn, store_->log().dbi());
    for (bool more = cursor.First(); more; more = cursor.Next()) {
      raw.emplace_back(cursor.key(), cursor.value().size());
    }
    return raw;
  }

  osrc::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(ChangeLogTest, FullBlocksAreSealedInAFractionOfTheirBytes) {
  auto raw = Raw();
  ASSERT_EQ(raw.size(), 2 + 10u);  // two blocks, then the ten entries of the third
  std::string first_block = SeqKey(kLogBlockEntries) + "B";
  EXPECT_EQ(raw[0].first, first_block);
  EXPECT_EQ(raw[2].first, SeqKey(2 * kLogBlockEntries + 1));
  size_t entries_bytes = 0;
  for (uint64_t seq = 1; seq <= kLogBlockEntries; ++seq) entries_bytes += Entry(seq).size();
  EXPECT_LT(raw[0].second * 3, entries_bytes) << "a block of 64 changes takes under a third";
}

TEST_F(ChangeLogTest, EveryEntryReadsBackBySequenceAndInOrderFromAnywhere) {
  ReadTxn txn(store_->env());
  EXPECT_EQ(store_->LogHead(txn), kEntries);
  for (uint64_t seq = 1; seq <= kEntries; ++seq) EXPECT_EQ(store_->GetLog(txn, seq), Entry(seq));
  EXPECT_FALSE(store_->GetLog(txn, 0));
  EXPECT_FALSE(store_->GetLog(txn, kEntries + 1));
  LogReader reader(txn, store_->log());
  for (uint64_t seq : {3u, 64u, 65u, 70u, 2u, 138u, 128u}) {
    EXPECT_EQ(reader.Get(seq), Entry(seq)) << seq;
  }
  for (uint64_t first : {1u, 63u, 64u, 65u, 128u, 129u, 138u}) {
    auto seen = WalkFrom(first);
    ASSERT_EQ(seen.size(), kEntries - first + 1) << first;
    EXPECT_EQ(seen.front(), first);
    EXPECT_EQ(seen.back(), kEntries);
  }
  EXPECT_TRUE(WalkFrom(kEntries + 1).empty());
}

TEST_F(ChangeLogTest, RewrittenEntriesReplaceTheirsInBlocksAndAfter) {
  std::map<uint64_t, std::string> rewritten{
      {5, "five"}, {64, "sixty-four"}, {65, "sixty-five"}, {130, "a hundred and thirty"}};
  {
    WriteTxn txn(store_->env());
    store_->log().Rewrite(txn, rewritten);
    txn.Commit();
  }
  ReadTxn txn(store_->env());
  for (uint64_t seq = 1; seq <= kEntries; ++seq) {
    auto it = rewritten.find(seq);
    EXPECT_EQ(store_->GetLog(txn, seq), it == rewritten.end() ? Entry(seq) : it->second) << seq;
  }
  EXPECT_EQ(Raw().size(), 2 + 10u);
}

TEST_F(ChangeLogTest, ADamagedOrMissingBlockIsCorruptionNamingIt) {
  {
    WriteTxn txn(store_->env());
    txn.Put(store_->log().dbi(), SeqKey(kLogBlockEntries) + "B", "not a block");
    txn.Del(store_->log().dbi(), SeqKey(2 * kLogBlockEntries) + "B");
    txn.Commit();
  }
  ReadTxn txn(store_->env());
  try {
    store_->GetLog(txn, 3);
    ADD_FAILURE() << "a damaged block read back";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
    EXPECT_EQ(std::string(e.what()), "change log block ending at 64: not zstd");
  }
  EXPECT_FALSE(store_->GetLog(txn, 100)) << "the block is gone";
  try {
    WalkFrom(100);
    ADD_FAILURE() << "a walk passed a missing block";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
    EXPECT_EQ(std::string(e.what()), "change log lacks 100");
  }
  EXPECT_EQ(WalkFrom(129).size(), 10u);
}

}  // namespace
}  // namespace osrc::storage

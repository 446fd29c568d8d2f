// Tests of LocalWriter (storage/local_writer.h): sequences, stamps, bases and no-op writes,
// against a store in a temporary folder and a fake clock.
#include "storage/local_writer.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/change.h"
#include "storage/hlc.h"
#include "storage/store.h"
#include "tests/storage/test_printers.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

namespace osrc::storage {
namespace {

using protocol::Change;
using protocol::Field;

class LocalWriterTest : public ::testing::Test {
 protected:
  LocalWriterTest() : dir_("osrc-writer-test") {
    EnvOptions options;
    options.map_size = size_t{64} << 20;
    options.durable = false;
    store_ = std::make_unique<Store>(dir_.path(), options);
  }

  // One write in its own committed transaction, as the replica layer does.
  std::optional<Change> PutCommitted(std::string_view id, std::vector<Field> fields) {
    WriteTxn txn(store_->env());
    LocalWriter writer(*store_, txn, clock_, "MAS");
    auto change = writer.Put("participants", id, std::move(fields));
    writer.Finish();
    txn.Commit();
    return change;
  }
  std::optional<Change> DeleteCommitted(std::string_view id) {
    WriteTxn txn(store_->env());
    LocalWriter writer(*store_, txn, clock_, "MAS");
    auto change = writer.Delete("participants", id);
    writer.Finish();
    txn.Commit();
    return change;
  }
  uint64_t Head() {
    ReadTxn txn(store_->env());
    return store_->LogHead(txn);
  }
  std::optional<RecordState> Get(std::string_view id) {
    ReadTxn txn(store_->env());
    return store_->GetRecord(txn, "participants", id);
  }
  // The logged change `seq`, decoded.
  Change Logged(uint64_t seq) {
    ReadTxn txn(store_->env());
    auto bytes = store_->GetLog(txn, seq);
    Change change;
    EXPECT_TRUE(bytes.has_value()) << "no log entry " << seq;
    if (bytes) {
      EXPECT_TRUE(protocol::DecodeChange(*bytes, {}, &change).ok());
    }
    return change;
  }

  osrc::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  osrc::testing::FakeClock clock_;
};

Field LocalField(std::string name, protocol::Value value) {
  return {std::move(name), std::move(value), 0};
}

TEST_F(LocalWriterTest, SequencesAreDenseFromOne) {
  {
    WriteTxn txn(store_->env());
    LocalWriter writer(*store_, txn, clock_, "MAS");
    EXPECT_EQ(writer.head(), 0u);
    EXPECT_EQ(writer.Put("participants", "MAS-P1", {LocalField("a", int64_t{1})})->seq, 1u);
    EXPECT_EQ(writer.Put("participants", "MAS-P2", {LocalField("a", int64_t{1})})->seq, 2u);
    EXPECT_FALSE(writer.Put("participants", "MAS-P2", {LocalField("a", int64_t{1})}));  // no-op
    EXPECT_EQ(writer.Delete("participants", "MAS-P1")->seq, 3u);
    EXPECT_EQ(writer.head(), 3u);
    writer.Finish();
    txn.Commit();
  }
  EXPECT_EQ(Head(), 3u);
  // A new writer continues from the log head.
  EXPECT_EQ(PutCommitted("MAS-P3", {LocalField("a", true)})->seq, 4u);
  EXPECT_EQ(DeleteCommitted("MAS-P3")->seq, 5u);
  EXPECT_EQ(Head(), 5u);
}

TEST_F(LocalWriterTest, EachChangeIsLoggedAsReturned) {
  std::vector<Change> changes;
  changes.push_back(
      *PutCommitted("MAS-P1", {LocalField("a", std::string("x")), LocalField("b", 2.5)}));
  changes.push_back(*PutCommitted("MAS-P1", {LocalField("a", Value())}));
  changes.push_back(*DeleteCommitted("MAS-P1"));
  for (const Change& change : changes) {
    EXPECT_EQ(change.origin, "MAS");
    EXPECT_EQ(change.collection, "participants");
    EXPECT_EQ(change.id, "MAS-P1");
    EXPECT_EQ(Logged(change.seq), change);
  }
}

TEST_F(LocalWriterTest, PutMergesIntoTheRecordInTheSameTransaction) {
  WriteTxn txn(store_->env());
  LocalWriter writer(*store_, txn, clock_, "MAS");
  auto change = writer.Put("participants", "MAS-P1", {LocalField("a", int64_t{7})});
  ASSERT_TRUE(change);
  auto state = store_->GetRecord(txn, "participants", "MAS-P1");
  ASSERT_TRUE(state);
  EXPECT_EQ(state->fields.at("a").value, protocol::Value(int64_t{7}));
  EXPECT_EQ(state->fields.at("a").version, (Version{change->stamp, "MAS", {}}));
}

TEST_F(LocalWriterTest, NoOpPutReturnsNulloptAndWritesNothing) {
  ASSERT_TRUE(
      PutCommitted("MAS-P1", {LocalField("a", int64_t{1}), LocalField("b", std::string("x"))}));
  auto before = Get("MAS-P1");
  uint64_t head = Head();
  clock_.Advance(1000);
  EXPECT_FALSE(
      PutCommitted("MAS-P1", {LocalField("a", int64_t{1}), LocalField("b", std::string("x"))}));
  EXPECT_FALSE(PutCommitted("MAS-P1", {LocalField("b", std::string("x"))}));
  EXPECT_FALSE(PutCommitted("MAS-P1", {LocalField("c", Value())}));  // unsetting an unset field
  EXPECT_FALSE(PutCommitted("MAS-P1", {LocalField("a", int64_t{1}), LocalField("c", Value())}));
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(Get("MAS-P1"), before);
  EXPECT_EQ(EncodeRecordState(*Get("MAS-P1")), EncodeRecordState(*before));
}

TEST_F(LocalWriterTest, ValuesOfADifferentTypeAreNotANoOp) {
  ASSERT_TRUE(PutCommitted("MAS-P1", {LocalField("a", int64_t{1})}));
  auto change = PutCommitted("MAS-P1", {LocalField("a", 1.0)});
  ASSERT_TRUE(change);
  EXPECT_EQ(Get("MAS-P1")->fields.at("a").value, protocol::Value(1.0));
}

TEST_F(LocalWriterTest, PutWithOneChangedFieldRecordsAllGivenFields) {
  auto first = PutCommitted("MAS-P1", {LocalField("a", int64_t{1}), LocalField("b", int64_t{2})});
  clock_.Advance(5);
  auto second = PutCommitted("MAS-P1", {LocalField("a", int64_t{1}), LocalField("b", int64_t{3})});
  ASSERT_TRUE(second);
  ASSERT_EQ(second->fields.size(), 2u);
  EXPECT_EQ(second->fields[0].base, first->stamp);
  EXPECT_EQ(second->fields[1].base, first->stamp);
  EXPECT_EQ(second->fields[1].base_origin, "MAS");
}

TEST_F(LocalWriterTest, DeleteOfAnAbsentRecordReturnsNullopt) {
  EXPECT_FALSE(DeleteCommitted("MAS-P404"));
  EXPECT_EQ(Head(), 0u);
  EXPECT_FALSE(Get("MAS-P404"));
}

TEST_F(LocalWriterTest, DeleteOfADeletedRecordReturnsNullopt) {
  ASSERT_TRUE(PutCommitted("MAS-P1", {LocalField("a", true)}));
  ASSERT_TRUE(DeleteCommitted("MAS-P1"));
  auto deleted = Get("MAS-P1");
  EXPECT_FALSE(DeleteCommitted("MAS-P1"));
  EXPECT_EQ(Head(), 2u);
  EXPECT_EQ(Get("MAS-P1"), deleted);
}

TEST_F(LocalWriterTest, DeleteKeepsATombstoneNamingWhatItRemoved) {
  auto put = PutCommitted("MAS-P1", {LocalField("a", true), LocalField("b", false)});
  auto del = DeleteCommitted("MAS-P1");
  ASSERT_TRUE(del);
  EXPECT_TRUE(del->deleted);
  // Each removed field, null, with the (stamp, origin) of the value the writer saw.
  ASSERT_EQ(del->fields.size(), 2u);
  EXPECT_EQ(del->fields[0], (Field{"a", protocol::Value(), put->stamp, "MAS"}));
  EXPECT_EQ(del->fields[1], (Field{"b", protocol::Value(), put->stamp, "MAS"}));
  EXPECT_EQ(del->base, put->stamp);
  EXPECT_EQ(del->base_origin, "MAS");
  EXPECT_GT(del->stamp, put->stamp);
  auto state = Get("MAS-P1");
  ASSERT_TRUE(state);
  EXPECT_FALSE(state->live());
  EXPECT_EQ(state->tombstone, (Version{del->stamp, "MAS", {put->stamp, "MAS"}}));
  EXPECT_EQ(state->tomb_seen.at("a"), (Base{put->stamp, "MAS"}));
}

TEST_F(LocalWriterTest, PutAfterDeleteRevivesWithFreshBases) {
  PutCommitted("MAS-P1", {LocalField("a", true)});
  auto del = DeleteCommitted("MAS-P1");
  auto revive =
      PutCommitted("MAS-P1", {LocalField("a", true)});  // same value, but the record is gone
  ASSERT_TRUE(revive);
  EXPECT_EQ(revive->fields[0].base, 0u);
  EXPECT_EQ(revive->fields[0].base_origin, "");
  EXPECT_EQ(revive->base, del->stamp);
  EXPECT_EQ(revive->base_origin, "MAS");
  EXPECT_TRUE(Get("MAS-P1")->live());
}

TEST_F(LocalWriterTest, BasesComeFromTheCurrentState) {
  auto own = PutCommitted("MAS-P1", {LocalField("a", int64_t{1})});
  // A hub change arrives for field b.
  uint64_t hub_stamp = own->stamp + 100;
  {
    WriteTxn txn(store_->env());
    Change hub;
    hub.collection = "participants";
    hub.id = "MAS-P1";
    hub.origin = "HUB";
    hub.seq = 1;
    hub.stamp = hub_stamp;
    hub.fields = {LocalField("b", std::string("hub"))};
    store_->Apply(txn, hub);
    store_->PutMetaU64(txn, kMetaClock, hub_stamp);  // as sync does
    txn.Commit();
  }
  // Caller-supplied bases are ignored.
  std::vector<Field> fields = {
      {"a", int64_t{2}, 999, "X"}, {"b", std::string("mine"), 999, "X"}, {"c", true, 999, "X"}};
  auto change = PutCommitted("MAS-P1", fields);
  ASSERT_TRUE(change);
  EXPECT_EQ(change->fields[0].base, own->stamp);
  EXPECT_EQ(change->fields[0].base_origin, "MAS");
  EXPECT_EQ(change->fields[1].base, hub_stamp);
  EXPECT_EQ(change->fields[1].base_origin, "HUB");
  EXPECT_EQ(change->fields[2].base, 0u);
  EXPECT_EQ(change->fields[2].base_origin, "");
  EXPECT_EQ(change->base, hub_stamp);
  EXPECT_EQ(change->base_origin, "HUB");
  EXPECT_GT(change->stamp, hub_stamp);
}

TEST_F(LocalWriterTest, StampsIncreaseWhenTheClockGoesBackwards) {
  std::vector<uint64_t> stamps;
  {
    WriteTxn txn(store_->env());
    LocalWriter writer(*store_, txn, clock_, "MAS");
    stamps.push_back(writer.Put("participants", "MAS-P1", {LocalField("a", int64_t{1})})->stamp);
    stamps.push_back(
        writer.Put("participants", "MAS-P1", {LocalField("a", int64_t{2})})->stamp);  // same ms
    clock_.Set(clock_.NowMillis() - 60'000);
    stamps.push_back(writer.Put("participants", "MAS-P1", {LocalField("a", int64_t{3})})->stamp);
    writer.Finish();
    txn.Commit();
  }
  clock_.Set(clock_.NowMillis() - 3'600'000);  // an hour back, across transactions
  stamps.push_back(PutCommitted("MAS-P1", {LocalField("a", int64_t{4})})->stamp);
  stamps.push_back(DeleteCommitted("MAS-P1")->stamp);
  clock_.Advance(10 * 3'600'000);
  stamps.push_back(PutCommitted("MAS-P1", {LocalField("a", int64_t{5})})->stamp);
  for (size_t i = 1; i < stamps.size(); ++i) EXPECT_GT(stamps[i], stamps[i - 1]) << i;
  EXPECT_EQ(MillisOf(stamps.back()), clock_.NowMillis());
  EXPECT_EQ(Get("MAS-P1")->fields.at("a").value, protocol::Value(int64_t{5}));
}

TEST_F(LocalWriterTest, FinishPersistsTheClock) {
  auto change = PutCommitted("MAS-P1", {LocalField("a", true)});
  ReadTxn txn(store_->env());
  EXPECT_EQ(store_->GetMetaU64(txn, kMetaClock), change->stamp);
}

TEST_F(LocalWriterTest, StampsUseThePersistedClockOffset) {
  {
    WriteTxn txn(store_->env());
    store_->PutMetaU64(txn, kMetaClockOffset, static_cast<uint64_t>(int64_t{-500}));
    txn.Commit();
  }
  auto change = PutCommitted("MAS-P1", {LocalField("a", true)});
  EXPECT_EQ(change->stamp, StampOf(clock_.NowMillis() - 500));
  {
    WriteTxn txn(store_->env());
    store_->PutMetaU64(txn, kMetaClockOffset, 2'000);
    txn.Commit();
  }
  change = PutCommitted("MAS-P1", {LocalField("a", false)});
  EXPECT_EQ(change->stamp, StampOf(clock_.NowMillis() + 2'000));
}

TEST_F(LocalWriterTest, AbortedWritesLeaveNoTrace) {
  {
    WriteTxn txn(store_->env());
    LocalWriter writer(*store_, txn, clock_, "MAS");
    ASSERT_TRUE(writer.Put("participants", "MAS-P1", {LocalField("a", true)}));
    writer.Finish();
  }
  EXPECT_EQ(Head(), 0u);
  EXPECT_FALSE(Get("MAS-P1"));
  EXPECT_EQ(PutCommitted("MAS-P1", {LocalField("a", true)})->seq, 1u);
}

}  // namespace
}  // namespace osrc::storage

// Tests of erasure orders in the store (Store::ApplyTo with Change::erased, LocalWriter::Erase)
// and their wire form: what remains is collection, id and stamp; later writes merge nothing.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "protocol/change.h"
#include "storage/local_writer.h"
#include "storage/store.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

namespace osrc::storage {
namespace {

using protocol::Change;
using protocol::Field;

class EraseTest : public ::testing::Test {
 protected:
  EraseTest() : dir_("osrc-erase-test") {
    EnvOptions options;
    options.map_size = size_t{64} << 20;
    options.durable = false;
    store_ = std::make_unique<Store>(dir_.path(), options);
  }

  void Put(std::string_view id, std::vector<Field> fields) {
    WriteTxn txn(store_->env());
    LocalWriter writer(*store_, txn, clock_, "MAS");
    writer.Put("participants", id, std::move(fields));
    writer.Finish();
    txn.Commit();
  }

  std::optional<Change> Erase(std::string_view id) {
    WriteTxn txn(store_->env());
    LocalWriter writer(*store_, txn, clock_, "MAS");
    auto change = writer.Erase("participants", id);
    writer.Finish();
    txn.Commit();
    return change;
  }

  osrc::testing::TempDir dir_;
  osrc::testing::FakeClock clock_;
  std::unique_ptr<Store> store_;
};

TEST_F(EraseTest, LeavesOnlyCollectionIdAndStampAndScrubsTheLog) {
  Put("MAS-P1", {{"family_name", std::string("Zqsecret")}});
  Put("MAS-P1", {{"phone", std::string("+63-9-555")}});
  auto erase = Erase("MAS-P1");
  ASSERT_TRUE(erase.has_value());
  EXPECT_TRUE(erase->erased);
  EXPECT_TRUE(erase->deleted);
  EXPECT_TRUE(erase->fields.empty());
  ReadTxn txn(store_->env());
  EXPECT_TRUE(store_->IsErased(txn, "participants", "MAS-P1"));
  auto state = store_->GetRecord(txn, "participants", "MAS-P1");
  ASSERT_TRUE(state.has_value());
  EXPECT_TRUE(state->fields.empty());
  EXPECT_TRUE(state->tomb_seen.empty());
  ASSERT_TRUE(state->tombstone.has_value());
  EXPECT_EQ(state->tombstone->stamp, erase->stamp);
  // Three log entries: the two puts keep their sequence and stamp but lose their values.
  ASSERT_EQ(store_->LogHead(txn), 3u);
  uint64_t previous_stamp = 0;
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    Change logged;
    ASSERT_TRUE(protocol::DecodeChange(*store_->GetLog(txn, seq), {}, &logged).ok());
    EXPECT_EQ(logged.seq, seq);
    EXPECT_GT(logged.stamp, previous_stamp);
    previous_stamp = logged.stamp;
    EXPECT_TRUE(logged.erased) << seq;
    EXPECT_TRUE(logged.fields.empty()) << seq;
  }
}

TEST_F(EraseTest, ScrubsEntriesSealedInTheLogsBlocksAndLeavesTheOthers) {
  Put("MAS-P1", {{"family_name", std::string("Zqsecret")}});
  for (uint64_t i = 2; i <= kLogBlockEntries + 5; ++i) {
    Put("MAS-P" + std::to_string(i), {{"family_name", std::string("Kept")}});
  }
  Put("MAS-P1", {{"phone", std::string("+63-9-555")}});  // after the sealed block
  ASSERT_TRUE(Erase("MAS-P1").has_value());
  ReadTxn txn(store_->env());
  uint64_t head = store_->LogHead(txn);
  ASSERT_EQ(head, kLogBlockEntries + 7);
  store_->ForEachLog(txn, 1, [&](uint64_t seq, std::string_view bytes) {
    Change logged;
    EXPECT_TRUE(protocol::DecodeChange(bytes, {}, &logged).ok()) << seq;
    bool erased_record = logged.id == "MAS-P1";
    EXPECT_EQ(logged.erased, erased_record) << seq;
    EXPECT_EQ(logged.fields.empty(), erased_record) << seq;
    EXPECT_EQ(bytes.find("Zqsecret"), std::string_view::npos) << seq;
    return true;
  });
}

TEST_F(EraseTest, LaterWritesFromElsewhereMergeNothing) {
  Put("MAS-P1", {{"family_name", std::string("Zqsecret")}});
  auto erase = Erase("MAS-P1");
  ASSERT_TRUE(erase.has_value());
  Change stale("participants", "MAS-P1", "MNL", 9, erase->stamp + 1000, 0, false,
               {{"family_name", std::string("Zqrevived")}});
  WriteTxn txn(store_->env());
  EXPECT_FALSE(store_->Apply(txn, stale).changed);
  EXPECT_TRUE(store_->GetRecord(txn, "participants", "MAS-P1")->fields.empty());
  // The same order again changes nothing; a second LocalWriter::Erase issues none.
  EXPECT_FALSE(store_->Apply(txn, *erase).changed);
  txn.Commit();
  EXPECT_FALSE(Erase("MAS-P1").has_value());
}

TEST(EraseWire, AnErasureCarriesNoFieldsAndOldFormsStillDecode) {
  Change erase("participants", "MAS-P1", "MNL", 4, 77, 0, true, {});
  erase.erased = true;
  Change decoded;
  ASSERT_TRUE(protocol::DecodeChange(protocol::EncodeChange(erase), {}, &decoded).ok());
  EXPECT_EQ(decoded, erase);
  Change with_value = erase;
  with_value.fields.push_back({"family_name", std::string("Zqsecret")});
  EXPECT_FALSE(protocol::DecodeChange(protocol::EncodeChange(with_value), {}, &decoded).ok());
  Change not_deleted = erase;
  not_deleted.deleted = false;
  EXPECT_FALSE(protocol::DecodeChange(protocol::EncodeChange(not_deleted), {}, &decoded).ok());
  // A plain delete is not an erasure.
  Change deleted = erase;
  deleted.erased = false;
  ASSERT_TRUE(protocol::DecodeChange(protocol::EncodeChange(deleted), {}, &decoded).ok());
  EXPECT_FALSE(decoded.erased);
}

}  // namespace
}  // namespace osrc::storage

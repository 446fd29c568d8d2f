// Tests of storage/restamp.h: a site's unacknowledged changes get fresh stamps, and only the bases
// that name them, by (stamp, origin), follow; the clock metas bound every stamp of the log.
#include "storage/restamp.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/change.h"
#include "storage/local_writer.h"
#include "storage/store.h"
#include "tests/storage/test_printers.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

namespace osrc::storage {
namespace {

using protocol::Change;
using protocol::Field;

class RestampTest : public ::testing::Test {
 protected:
  RestampTest() : dir_("osrc-restamp-test") {
    EnvOptions options;
    options.map_size = size_t{16} << 20;
    options.durable = false;
    store_ = std::make_unique<Store>(dir_.path(), options);
  }

  Change PutCommitted(std::vector<Field> fields) {
    WriteTxn txn(store_->env());
    LocalWriter writer(*store_, txn, clock_, "MAS");
    auto change = writer.Put("participants", "MAS-P1", std::move(fields));
    writer.Finish();
    txn.Commit();
    return change.value();
  }

  Change Logged(const Txn& txn, uint64_t seq) {
    Change change;
    EXPECT_TRUE(protocol::DecodeChange(store_->GetLog(txn, seq).value(), {}, &change).ok());
    return change;
  }

  osrc::testing::TempDir dir_;
  osrc::testing::FakeClock clock_;
  std::unique_ptr<Store> store_;
};

// MNL's write of b and MAS's first write of a carry the same stamp; restamping MAS's changes
// moves the base naming MAS's write and leaves the one naming MNL's.
TEST_F(RestampTest, OnlyBasesNamingThisOriginFollowTheNewStamps) {
  uint64_t shared = StampOf(clock_.NowMillis());
  {
    WriteTxn txn(store_->env());
    store_->Apply(
        txn,
        Change{
            "participants", "MAS-P1", "MNL", 1, shared, 0, false, {{"b", std::string("mnl"), 0}}});
    txn.Commit();
  }
  Change first = PutCommitted({{"a", std::string("x")}});
  ASSERT_EQ(first.stamp, shared);
  clock_.Advance(1);
  Change second = PutCommitted({{"a", std::string("y")}, {"b", std::string("mas")}});
  ASSERT_EQ(second.fields[0].base_origin, "MAS");
  ASSERT_EQ(second.fields[1].base_origin, "MNL");

  clock_.Advance(60'000);
  WriteTxn txn(store_->env());
  Hlc hlc(clock_, second.stamp);
  ASSERT_EQ(RestampPending(*store_, txn, hlc, "MAS", 1), 2u);
  Change new_first = Logged(txn, 1);
  Change new_second = Logged(txn, 2);
  EXPECT_GT(new_first.stamp, second.stamp);
  EXPECT_GT(new_second.stamp, new_first.stamp);
  EXPECT_EQ(new_second.fields[0], (Field{"a", std::string("y"), new_first.stamp, "MAS"}));
  EXPECT_EQ(new_second.fields[1], (Field{"b", std::string("mas"), shared, "MNL"}));
  RecordState state = store_->GetRecord(txn, "participants", "MAS-P1").value();
  EXPECT_EQ(state.fields.at("a").version,
            (Version{new_second.stamp, "MAS", {new_first.stamp, "MAS"}}));
  EXPECT_EQ(state.fields.at("b").version, (Version{new_second.stamp, "MAS", {shared, "MNL"}}));
}

// Pending changes sealed in a block of the log are re-stamped in it; acknowledged ones in the
// same block keep their stamps.
TEST_F(RestampTest, ChangesInASealedBlockAreRestampedInPlace) {
  std::vector<Change> written;
  for (uint64_t i = 0; i < kLogBlockEntries + 3; ++i) {
    clock_.Advance(1);
    written.push_back(PutCommitted({{"a", std::to_string(i)}}));
  }
  const uint64_t from = kLogBlockEntries - 2;
  clock_.Advance(60'000);
  WriteTxn txn(store_->env());
  Hlc hlc(clock_, written.back().stamp);
  ASSERT_EQ(RestampPending(*store_, txn, hlc, "MAS", from), 6u);
  uint64_t previous = 0;
  for (uint64_t seq = 1; seq <= written.size(); ++seq) {
    Change logged = Logged(txn, seq);
    if (seq < from) {
      EXPECT_EQ(logged, written[seq - 1]) << seq;
      continue;
    }
    EXPECT_GT(logged.stamp, std::max(previous, written.back().stamp)) << seq;
    ASSERT_EQ(logged.fields.size(), 1u);
    EXPECT_EQ(logged.fields[0].value, written[seq - 1].fields[0].value) << seq;
    previous = logged.stamp;
  }
}

// A correction left change 1 (pushed with the Hello) above the corrected clock: the metas say so,
// so no check trusts the clock meta alone; a store from before kMetaStampsAhead is scanned.
TEST_F(RestampTest, TheMetasBoundEveryStampOrTheLogIsScanned) {
  Change ahead = PutCommitted({{"a", std::string("x")}});
  clock_.Advance(1);
  PutCommitted({{"a", std::string("y")}});
  WriteTxn txn(store_->env());
  uint64_t beyond = MaxLogStamp(*store_, txn, 1);
  EXPECT_EQ(MaxLogStamp(*store_, txn, 1, 1), ahead.stamp);
  EXPECT_FALSE(StampsBoundedBy(*store_, txn, beyond)) << "a store without the meta";
  EXPECT_TRUE(PendingWithin(*store_, txn, 1, beyond));
  EXPECT_FALSE(PendingWithin(*store_, txn, 1, beyond - 1));

  // The clock goes back an hour and change 2 is re-stamped; change 1 keeps its stamp.
  Hlc hlc(clock_, 0);
  hlc.set_offset_ms(-3'600'000);
  ASSERT_EQ(RestampPending(*store_, txn, hlc, "MAS", 2), 1u);
  store_->PutMetaU64(txn, kMetaClock, hlc.last());
  RecordStampsAhead(*store_, txn, MaxLogStamp(*store_, txn, 1, 1));
  EXPECT_EQ(store_->GetMetaU64(txn, kMetaStampsAhead), ahead.stamp);
  EXPECT_FALSE(StampsBoundedBy(*store_, txn, hlc.last()));
  EXPECT_TRUE(StampsBoundedBy(*store_, txn, ahead.stamp));
  EXPECT_FALSE(PendingWithin(*store_, txn, 1, hlc.last()));
  EXPECT_TRUE(PendingWithin(*store_, txn, 2, hlc.last())) << "change 2 was re-stamped";

  // Once acknowledged, nothing is left ahead.
  RecordStampsAhead(*store_, txn, MaxLogStamp(*store_, txn, 2));
  EXPECT_EQ(store_->GetMetaU64(txn, kMetaStampsAhead), 0u);
  EXPECT_TRUE(StampsBoundedBy(*store_, txn, hlc.last()));
}

}  // namespace
}  // namespace osrc::storage

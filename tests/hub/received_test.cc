// Tests of hub/received.h: changes received per site and hour add up, hours older than the kept
// window go when a new hour comes, and the counts are in the store: they are there after it is
// closed and opened again, as after a hub restart.
#include "hub/received.h"

#include <gtest/gtest.h>

#include <memory>

#include "tests/support/temp_dir.h"

namespace osrc::hub {
namespace {

constexpr uint64_t kHour = 3'600'000;
constexpr uint64_t kNow = 500'000 * kHour;  // an hour in 2027

class ReceivedTest : public ::testing::Test {
 protected:
  ReceivedTest() : dir_("osrc-received-test") { Open(); }
  void Open() {
    storage::EnvOptions options;
    options.map_size = size_t{16} << 20;
    options.durable = false;
    store_.reset();
    store_ = std::make_unique<storage::Store>(dir_.path(), options);
  }
  void Count(const std::string& site, uint64_t ms, uint64_t changes) {
    storage::WriteTxn txn(store_->env());
    CountReceived(*store_, txn, site, ms, changes);
    txn.Commit();
  }
  HourlyCounts Read(uint64_t first_hour = 0) {
    storage::ReadTxn txn(store_->env());
    return ReadReceived(*store_, txn, first_hour);
  }

  osrc::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
};

TEST_F(ReceivedTest, CountsAddUpPerSiteAndHourAndOutliveAReopen) {
  Count("MAS", kNow, 3);
  Count("MAS", kNow + kHour - 1, 4);  // the same hour
  Count("MAS", kNow + kHour, 5);
  Count("ANT", kNow, 2);
  Count("ANT", kNow, 0);  // nothing merged: nothing kept
  HourlyCounts expected = {{"ANT", {{500'000, 2}}}, {"MAS", {{500'000, 7}, {500'001, 5}}}};
  EXPECT_EQ(Read(), expected);
  Open();
  EXPECT_EQ(Read(), expected);
  EXPECT_EQ(Read(500'001), (HourlyCounts{{"MAS", {{500'001, 5}}}}));
}

TEST_F(ReceivedTest, HoursOutsideTheWindowGoWhenANewHourComes) {
  Count("MAS", kNow, 1);
  Count("MAS", kNow + kReceivedKeptHours * kHour, 2);  // the first hour is still in the window
  EXPECT_EQ(Read()["MAS"].size(), 2u);
  Count("MAS", kNow + (kReceivedKeptHours + 1) * kHour, 3);
  EXPECT_EQ(Read()["MAS"], (std::map<uint64_t, uint64_t>{{500'000 + kReceivedKeptHours, 2},
                                                         {500'001 + kReceivedKeptHours, 3}}));
}

}  // namespace
}  // namespace osrc::hub

// Tests of the hybrid logical clock (storage/hlc.h).
#include "storage/hlc.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "tests/support/fake_clock.h"

namespace osrc::storage {
namespace {

using osrc::testing::FakeClock;

TEST(HlcTest, StampPacksMillisAndCounter) {
  EXPECT_EQ(StampOf(1000), uint64_t{1000} << 16);
  EXPECT_EQ(StampOf(1000, 7), (uint64_t{1000} << 16) + 7);
  EXPECT_EQ(MillisOf(StampOf(123456789, 65535)), 123456789u);
  EXPECT_LT(StampOf(1000, 65535), StampOf(1001));
}

TEST(HlcTest, NowFollowsThePhysicalClockWhenItIsAhead) {
  FakeClock clock(5000);
  Hlc hlc(clock, 0);
  EXPECT_EQ(hlc.Now(), StampOf(5000));
  clock.Set(6000);
  EXPECT_EQ(hlc.Now(), StampOf(6000));
  EXPECT_EQ(hlc.last(), StampOf(6000));
}

TEST(HlcTest, CounterAdvancesWithinOneMillisecond) {
  FakeClock clock(5000);
  Hlc hlc(clock, 0);
  EXPECT_EQ(hlc.Now(), StampOf(5000, 0));
  EXPECT_EQ(hlc.Now(), StampOf(5000, 1));
  EXPECT_EQ(hlc.Now(), StampOf(5000, 2));
}

TEST(HlcTest, StaysMonotonicWhenTheClockGoesBackwards) {
  FakeClock clock(5000);
  Hlc hlc(clock, 0);
  uint64_t before = hlc.Now();
  clock.Set(10);  // an hour-scale jump back
  uint64_t after = hlc.Now();
  EXPECT_GT(after, before);
  EXPECT_EQ(MillisOf(after), 5000u);
  clock.Set(5001);
  EXPECT_EQ(hlc.Now(), StampOf(5001));
}

TEST(HlcTest, StartsAfterThePersistedLastStamp) {
  FakeClock clock(100);
  Hlc hlc(clock, StampOf(9000, 3));
  EXPECT_EQ(hlc.Now(), StampOf(9000, 4));
}

TEST(HlcTest, ObserveMakesLaterStampsExceedTheObservedOne) {
  FakeClock clock(1000);
  Hlc hlc(clock, 0);
  hlc.Observe(StampOf(2000, 5));
  EXPECT_EQ(hlc.last(), StampOf(2000, 5));
  EXPECT_EQ(hlc.Now(), StampOf(2000, 6));
}

TEST(HlcTest, ObservingAnOlderStampChangesNothing) {
  FakeClock clock(3000);
  Hlc hlc(clock, 0);
  uint64_t now = hlc.Now();
  hlc.Observe(StampOf(1000));
  EXPECT_EQ(hlc.last(), now);
  EXPECT_EQ(hlc.Now(), now + 1);
}

TEST(HlcTest, OffsetCorrectsThePhysicalClock) {
  FakeClock clock(10'000);
  Hlc hlc(clock, 0);
  hlc.set_offset_ms(250);
  EXPECT_EQ(hlc.offset_ms(), 250);
  EXPECT_EQ(hlc.PhysicalMillis(), 10'250u);
  EXPECT_EQ(hlc.Now(), StampOf(10'250));
  hlc.set_offset_ms(-5'000);
  EXPECT_EQ(hlc.PhysicalMillis(), 5'000u);
  // Behind now, yet still increasing.
  EXPECT_EQ(hlc.Now(), StampOf(10'250, 1));
}

TEST(HlcTest, NegativeOffsetBeyondZeroClampsAtZero) {
  FakeClock clock(100);
  Hlc hlc(clock, 0);
  hlc.set_offset_ms(-1'000);
  EXPECT_EQ(hlc.PhysicalMillis(), 0u);
  EXPECT_GT(hlc.Now(), 0u);
}

TEST(HlcTest, CounterOverflowCarriesIntoMillis) {
  FakeClock clock(7);
  Hlc hlc(clock, StampOf(7, 0xffff));
  uint64_t stamp = hlc.Now();
  EXPECT_EQ(stamp, StampOf(8, 0));
}

TEST(HlcTest, StampsStrictlyIncreaseUnderRandomClockAndObservations) {
  constexpr uint64_t kSeed = 7;
  std::mt19937_64 rng(kSeed);
  for (int iteration = 0; iteration < 200; ++iteration) {
    SCOPED_TRACE("seed " + std::to_string(kSeed) + " iteration " + std::to_string(iteration));
    FakeClock clock(1'000'000);
    Hlc hlc(clock, rng() % 2 ? 0 : StampOf(1'000'000 + rng() % 1000));
    uint64_t highest = hlc.last();
    for (int step = 0; step < 500; ++step) {
      switch (rng() % 5) {
        case 0:  // the clock jumps, either way
          clock.Set(clock.NowMillis() + rng() % 2000 - 1000);
          break;
        case 1: {  // a stamp from elsewhere
          uint64_t seen = StampOf(clock.NowMillis() + rng() % 3000 - 1500, rng() % 8);
          hlc.Observe(seen);
          highest = std::max(highest, seen);
          break;
        }
        case 2:
          hlc.set_offset_ms(static_cast<int64_t>(rng() % 1000) - 500);
          break;
        default: {
          uint64_t stamp = hlc.Now();
          ASSERT_GT(stamp, highest) << "step " << step;
          highest = stamp;
          ASSERT_EQ(hlc.last(), stamp);
          break;
        }
      }
    }
  }
}

TEST(HlcTest, SystemClockIsNearNow) {
  SystemClock clock;
  uint64_t now = clock.NowMillis();
  EXPECT_GT(now, uint64_t{1'600'000'000'000});  // after 2020
  EXPECT_GE(clock.NowMillis(), now - 1000);
}

}  // namespace
}  // namespace osrc::storage

// Tests of the status-report renderings (base/text.h).
#include "base/text.h"

#include <gtest/gtest.h>

namespace osrc {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

TEST(TextTest, StoreUseShowsMebibytesAndPercent) {
  EXPECT_EQ(StoreUseOf(3 * kMiB, 1024 * kMiB), "3 MiB of 1024 MiB (0%)");
  EXPECT_EQ(StoreUseOf(79 * kMiB + kMiB / 2, 100 * kMiB), "79 MiB of 100 MiB (79%)");
  EXPECT_EQ(StoreUseOf(0, 0), "0 MiB of 0 MiB (0%)");
}

TEST(TextTest, StoreUseWarnsFromEightyPercent) {
  EXPECT_FALSE(StoreNearlyFull(80 * kMiB - 1, 100 * kMiB));
  EXPECT_TRUE(StoreNearlyFull(80 * kMiB, 100 * kMiB));
  EXPECT_FALSE(StoreNearlyFull(0, 0));
  EXPECT_EQ(StoreUseOf(80 * kMiB, 100 * kMiB),
            "80 MiB of 100 MiB (80%)  WARNING: store over 80% full");
}

}  // namespace
}  // namespace osrc

// Tests of the text helpers (base/text.h): status-report renderings, Z85 key shape.
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

TEST(TextTest, Z85KeyIsFortyCharactersThatDecode) {
  EXPECT_TRUE(IsZ85Key("Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"));  // libzmq's test key
  EXPECT_TRUE(IsZ85Key(std::string(40, '0')));
  EXPECT_FALSE(IsZ85Key(""));
  EXPECT_FALSE(IsZ85Key(std::string(39, '0')));
  EXPECT_FALSE(IsZ85Key(std::string(41, '0')));
  EXPECT_FALSE(IsZ85Key(std::string(39, '0') + "~"));  // not in the alphabet
  EXPECT_FALSE(IsZ85Key(std::string(39, '0') + " "));
  EXPECT_FALSE(IsZ85Key("#####" + std::string(35, '0')));  // 85^5 - 1 > 2^32 - 1
}

}  // namespace
}  // namespace osrc

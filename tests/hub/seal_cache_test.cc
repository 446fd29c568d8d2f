// Tests of hub::SealCache (hub/seal_cache.h): a cached seal is the Sealer's, an entry rewritten in
// place gets a fresh one, and entries that share a slot each keep their own.
#include "hub/seal_cache.h"

#include <gtest/gtest.h>

#include <string>

#include "protocol/curve_keys.h"

namespace osrc::hub {
namespace {

TEST(SealCacheTest, SealsAreTheSealersWhateverTheOrderOrSlot) {
  protocol::Sealer sealer(protocol::GenerateKeyPair().secret_key);
  SealCache cache(sealer, 4);
  for (int round = 0; round < 2; ++round) {
    for (uint64_t seq : {1u, 5u, 2u, 9u, 1u}) {  // 1, 5 and 9 share a slot
      std::string bytes = "change " + std::to_string(seq);
      EXPECT_EQ(cache.Seal(seq, bytes), sealer.Seal(bytes)) << seq;
    }
  }
}

TEST(SealCacheTest, AnEntryRewrittenInPlaceIsSealedAfresh) {
  protocol::Sealer sealer(protocol::GenerateKeyPair().secret_key);
  SealCache cache(sealer);
  std::string first = cache.Seal(7, "participant MAS-P1 with values");
  std::string erased = cache.Seal(7, "participant MAS-P1 erased");
  EXPECT_EQ(erased, sealer.Seal("participant MAS-P1 erased"));
  EXPECT_NE(erased, first);
}

}  // namespace
}  // namespace osrc::hub

// SealCache: the seals of the hub's log entries, each computed once however many sites a page
// goes to. A seal depends only on an entry's bytes, and a reference update goes to every site:
// without the cache 2,000 sites cost 2,000 HMACs per entry. Slots are taken by sequence and hold
// the bytes they sealed, so an entry rewritten in place (an erasure) is sealed afresh. Not
// thread-safe: each thread that reads pages keeps its own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/seal.h"

namespace osrc::hub {

class SealCache {
 public:
  explicit SealCache(const protocol::Sealer& sealer, size_t slots = 16384)
      : sealer_(sealer), slots_(slots) {}

  // The seal of log entry `seq`, whose bytes are `bytes`; valid until the next call.
  const std::string& Seal(uint64_t seq, std::string_view bytes);

 private:
  struct Slot {
    uint64_t seq = 0;  // 0: empty
    std::string bytes;
    std::string seal;
  };
  const protocol::Sealer& sealer_;
  std::vector<Slot> slots_;
};

}  // namespace osrc::hub

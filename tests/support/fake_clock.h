// FakeClock: the physical clock of unit tests, moved by hand. Not thread-safe.
#pragma once

#include <cstdint>

#include "storage/hlc.h"

namespace osrc::testing {

class FakeClock final : public storage::Clock {
 public:
  explicit FakeClock(uint64_t now_ms = 1'700'000'000'000) : now_ms_(now_ms) {}
  uint64_t NowMillis() override { return now_ms_; }
  void Advance(uint64_t ms) { now_ms_ += ms; }
  void Set(uint64_t now_ms) { now_ms_ = now_ms; }

 private:
  uint64_t now_ms_;
};

}  // namespace osrc::testing

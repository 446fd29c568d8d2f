// Hybrid logical clock: 64-bit stamps of 48 bits of milliseconds and 16 of counter, never going
// backwards, corrected by the offset to the hub clock learnt at handshake. Thread-compatible.
#pragma once

#include <cstdint>

namespace osrc::storage {

// Physical time, replaced in tests.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t NowMillis() = 0;
};

// The machine's clock. OSRC_CLOCK_SKEW_MS (milliseconds, may be negative) shifts it, to test and
// demonstrate a PC whose clock is wrong.
class SystemClock final : public Clock {
 public:
  SystemClock();
  uint64_t NowMillis() override;

 private:
  int64_t skew_ms_ = 0;
};

constexpr uint64_t StampOf(uint64_t millis, uint64_t counter = 0) { return millis << 16 | counter; }
constexpr uint64_t MillisOf(uint64_t stamp) { return stamp >> 16; }

class Hlc {
 public:
  // `last`: the highest stamp this replica ever issued or saw (persisted by the caller).
  Hlc(Clock& clock, uint64_t last) : clock_(clock), last_(last) {}

  // A new stamp, greater than every stamp issued or observed before.
  uint64_t Now();
  // Takes in a stamp seen from elsewhere so later stamps exceed it.
  void Observe(uint64_t stamp);
  // Corrects the physical clock by `offset_ms` (hub clock minus ours).
  void set_offset_ms(int64_t offset_ms) { offset_ms_ = offset_ms; }
  int64_t offset_ms() const { return offset_ms_; }
  // Physical time corrected by the offset, in milliseconds.
  uint64_t PhysicalMillis();
  uint64_t last() const { return last_; }

 private:
  Clock& clock_;
  uint64_t last_;
  int64_t offset_ms_ = 0;
};

}  // namespace osrc::storage

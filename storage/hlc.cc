#include "storage/hlc.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace osrc::storage {

SystemClock::SystemClock() {
  if (const char* skew = std::getenv("OSRC_CLOCK_SKEW_MS")) skew_ms_ = std::atoll(skew);
}

uint64_t SystemClock::NowMillis() {
  using namespace std::chrono;
  int64_t now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  return static_cast<uint64_t>(std::max<int64_t>(now + skew_ms_, 0));
}

uint64_t Hlc::PhysicalMillis() {
  int64_t now = static_cast<int64_t>(clock_.NowMillis()) + offset_ms_;
  return static_cast<uint64_t>(std::max<int64_t>(now, 0));
}

uint64_t Hlc::Now() {
  uint64_t physical = StampOf(PhysicalMillis());
  last_ = physical > last_ ? physical : last_ + 1;
  return last_;
}

void Hlc::Observe(uint64_t stamp) { last_ = std::max(last_, stamp); }

}  // namespace osrc::storage

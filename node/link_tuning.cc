#include "node/link_tuning.h"

#include <algorithm>
#include <cmath>

#include "protocol/run_history.h"

namespace osrc::node {
namespace {

// A push should take at most this share of the heartbeat timeout on the wire.
constexpr double kPushShareOfTimeout = 0.25;
// The first pushes of a daemon, before the link is measured: 64 KiB of changes, then as many as
// compress to 16 KiB on the wire (under 3 s on a 2G link of 6,000 bytes/s).
constexpr size_t kInitialBatchBytes = 64 * 1024;
constexpr double kInitialPushWireBytes = 16 * 1024;
// A Deliver page should take at most this share of the heartbeat timeout on the wire: pages in
// a window arrive one after another, and each arrival is traffic.
constexpr double kDeliverShareOfTimeout = 0.5;
// The Deliver window, in pages, at most.
constexpr double kMaxDeliverPagesInFlight = 16;
// Deliver pages asked of the hub before the link is measured, and at the least.
constexpr size_t kInitialDeliverBytes = 8 * 1024;
constexpr size_t kMinDeliverBytes = 4 * 1024;
// Weight of a new rate sample.
constexpr double kRateGain = 0.5;
// Links slower than these (wire bytes per second) get pushes compressed harder: on a 30,000-record
// first sync, level 6 costs five times the CPU of level 3 for 16% fewer bytes, level 9 seven times
// for 20%, and still compresses over 10 MB/s of changes on one core.
constexpr double kFastLinkRate = 1024 * 1024;
constexpr double kSlowLinkRate = 128 * 1024;
constexpr size_t kMinHardRunBytes = 4 * 1024;

}  // namespace

LinkTuning::LinkTuning(const protocol::LinkOptions& options)
    : options_(options),
      batch_bytes_(std::clamp(kInitialBatchBytes, options.min_batch_bytes, options.batch_bytes)),
      window_(options.window) {}

void LinkTuning::OnPushAcked(uint64_t wire_bytes, uint64_t raw_bytes, uint64_t busy_ms) {
  if (wire_bytes == 0) return;
  if (in_flight_limit_ > 0) in_flight_limit_ += wire_bytes;
  double sample = static_cast<double>(wire_bytes) * 1000.0 /
                  static_cast<double>(std::max<uint64_t>(busy_ms, 1));
  rate_ = rate_ == 0 ? sample : rate_ + kRateGain * (sample - rate_);
  raw_per_wire_ =
      static_cast<double>(std::max<uint64_t>(raw_bytes, 1)) / static_cast<double>(wire_bytes);
  Retune();
}

void LinkTuning::OnPushSent(uint64_t wire_bytes, uint64_t raw_bytes) {
  if (rate_ > 0 || wire_bytes == 0 || raw_bytes == 0) return;
  raw_per_wire_ = static_cast<double>(raw_bytes) / static_cast<double>(wire_bytes);
  batch_bytes_ = std::clamp(static_cast<size_t>(kInitialPushWireBytes * raw_per_wire_),
                            options_.min_batch_bytes, options_.batch_bytes);
  Limit();
}

int LinkTuning::compression_level(size_t raw_bytes) const {
  if (raw_bytes < kMinHardRunBytes || rate_ == 0 || rate_ >= kFastLinkRate) {
    return protocol::kDefaultRunLevel;
  }
  return rate_ >= kSlowLinkRate ? 6 : protocol::kHardestRunLevel;
}

void LinkTuning::OnRoundTrip(uint64_t ms) {
  round_trip_ms_ = round_trip_ms_ == 0 ? ms : std::min(round_trip_ms_, ms);
  Retune();
}

void LinkTuning::OnDelivered(uint64_t wire_bytes, uint64_t raw_bytes, uint64_t on_wire_ms) {
  if (wire_bytes == 0 || raw_bytes == 0) return;
  if (on_wire_ms > 0) {
    double sample = static_cast<double>(wire_bytes) * 1000.0 / static_cast<double>(on_wire_ms);
    down_rate_ = down_rate_ == 0 ? sample : down_rate_ + kRateGain * (sample - down_rate_);
  }
  down_raw_per_wire_ = static_cast<double>(raw_bytes) / static_cast<double>(wire_bytes);
  if (deliver_limit_ > 0) deliver_limit_ *= 2;
}

uint32_t LinkTuning::deliver_window() const {
  double page = deliver_bytes();
  double in_round_trip = 0;
  if (deliver_limit_ == 0 && down_rate_ > 0) {
    in_round_trip = down_rate_ * static_cast<double>(round_trip_ms_) / 1000.0 * down_raw_per_wire_;
  }
  double window = std::min(2 * page + in_round_trip, kMaxDeliverPagesInFlight * page);
  return static_cast<uint32_t>(std::min<double>(window, UINT32_MAX));
}

uint32_t LinkTuning::deliver_bytes() const {
  double seconds = kDeliverShareOfTimeout * options_.heartbeat_timeout_ms / 1000.0;
  double fitting = static_cast<double>(kInitialDeliverBytes);
  if (down_rate_ > 0) {
    fitting = down_rate_ * seconds * down_raw_per_wire_;
  } else if (rate_ > 0) {
    fitting = rate_ * seconds;  // hub changes may compress worse than this site's: as raw
  }
  if (deliver_limit_ > 0) fitting = std::min(fitting, static_cast<double>(deliver_limit_));
  return static_cast<uint32_t>(std::clamp(fitting, double{kMinDeliverBytes},
                                          static_cast<double>(options_.max_message_bytes / 2)));
}

void LinkTuning::OnConnectionLost(uint64_t through_wire) {
  uint64_t wire_per_push = static_cast<uint64_t>(static_cast<double>(batch_bytes_) / raw_per_wire_);
  uint64_t in_flight = std::max<uint64_t>(wire_per_push, 1) * static_cast<uint64_t>(window_);
  uint64_t limit = through_wire > 0 ? through_wire : in_flight / 2;
  uint64_t floor =
      static_cast<uint64_t>(static_cast<double>(options_.min_batch_bytes) / raw_per_wire_);
  in_flight_limit_ = std::max<uint64_t>({limit, floor, 1});
  Limit();
}

void LinkTuning::OnDeliverLost(uint64_t asked_bytes) {
  deliver_limit_ = std::max<uint64_t>(kMinDeliverBytes, asked_bytes / 2);
}

void LinkTuning::Limit() {
  if (in_flight_limit_ == 0) return;
  auto half = static_cast<size_t>(static_cast<double>(in_flight_limit_) / 2 * raw_per_wire_);
  batch_bytes_ =
      std::clamp(std::min(batch_bytes_, half), options_.min_batch_bytes, options_.batch_bytes);
  double wire_per_push = std::max(1.0, static_cast<double>(batch_bytes_) / raw_per_wire_);
  int fitting = static_cast<int>(static_cast<double>(in_flight_limit_) / wire_per_push);
  window_ = std::clamp(fitting, 1, options_.window);
}

void LinkTuning::Retune() {
  if (rate_ > 0) FitToRate();
  // Acks grew the allowance past anything the pushes could use: the loss is behind us.
  double full = static_cast<double>(options_.batch_bytes) / raw_per_wire_ * options_.window;
  if (in_flight_limit_ > 0 && static_cast<double>(in_flight_limit_) >= full) in_flight_limit_ = 0;
  Limit();
}

void LinkTuning::FitToRate() {
  double push_seconds = kPushShareOfTimeout * options_.heartbeat_timeout_ms / 1000.0;
  double fitting = rate_ * push_seconds * raw_per_wire_;
  // Grows at most twofold per measurement, as the rate of a busier link shows only once used.
  double grown = std::min(fitting, 2.0 * static_cast<double>(batch_bytes_));
  batch_bytes_ =
      std::clamp(static_cast<size_t>(grown), options_.min_batch_bytes, options_.batch_bytes);
  // A link fast enough for full batches keeps the configured window (the hub commits the pushes
  // in flight together); a slower one carries a round trip's worth, plus one push queued behind
  // the one on the wire, so a cut costs little to resend.
  if (batch_bytes_ >= options_.batch_bytes) {
    window_ = options_.window;
    return;
  }
  double wire_per_push = static_cast<double>(batch_bytes_) / raw_per_wire_;
  double in_round_trip = rate_ * static_cast<double>(round_trip_ms_) / 1000.0 / wire_per_push;
  window_ = std::clamp(static_cast<int>(std::ceil(in_round_trip)) + 1, std::min(2, options_.window),
                       options_.window);
}

}  // namespace osrc::node

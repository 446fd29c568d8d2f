// LinkTuning: sizes a node's pushes to its link. A push must cross the link well inside the
// hub's heartbeat timeout (ZeroMQ counts only complete messages as traffic, so a push still in
// transfer when it expires drops the link), and enough pushes must be in flight to keep the link
// busy over a round trip. The delivery rate is measured from the spacing of acknowledgements.
// Outlives sessions, so a daemon keeps what it learnt across reconnects. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "protocol/link_options.h"

namespace osrc::node {

class LinkTuning {
 public:
  explicit LinkTuning(const protocol::LinkOptions& options);

  // Raw change bytes for the next push, within [min_batch_bytes, batch_bytes].
  size_t batch_bytes() const { return batch_bytes_; }
  // Pushes in flight, within [1, window].
  int window() const { return window_; }
  // The largest Deliver page to ask of the hub, in change bytes: one that crosses the link in
  // half the heartbeat timeout (only one is in flight), or before the link is measured, one
  // small enough for a 2G link.
  uint32_t deliver_bytes() const;
  // Raw bytes of Deliver pages the hub may send before their acknowledgements come back: what
  // the link carries in a round trip (the bandwidth-delay product), plus two pages, so one page
  // is on the wire while the next waits and the acknowledgements travel.
  uint32_t deliver_window() const;
  // Measured delivery rate in wire bytes per second; 0 before the first measurement.
  double rate() const { return rate_; }
  // The zstd level of a push of `raw_bytes`: harder the slower the link is measured, while
  // compressing stays far faster than the link carries. Small pushes keep the default: loading
  // their prefix dominates their cost, harder levels save them little, and their acks measure
  // the round trip more than the rate.
  int compression_level(size_t raw_bytes) const;
  // Smallest round trip seen, in ms; 0 before any.
  uint64_t round_trip_ms() const { return round_trip_ms_; }

  // A push of `wire_bytes` on the link (`raw_bytes` of changes) kept it busy `busy_ms`: from the
  // previous acknowledgement to its own, or for a push sent after that, from its sending to its
  // acknowledgement less a round trip.
  void OnPushAcked(uint64_t wire_bytes, uint64_t raw_bytes, uint64_t busy_ms);
  // A push of `raw_bytes` of changes left as `wire_bytes`. Before the link is measured, the next
  // pushes hold as many changes as compress to a size safe on any link.
  void OnPushSent(uint64_t wire_bytes, uint64_t raw_bytes);
  // A small request answered after `ms`: an upper bound of the round trip.
  void OnRoundTrip(uint64_t ms);
  // A Deliver page of `wire_bytes` (`raw_bytes` of changes) arrived, having been on the wire for
  // `on_wire_ms`; 0: its timing is unknown (the hub may have held it back for lack of data).
  void OnDelivered(uint64_t wire_bytes, uint64_t raw_bytes, uint64_t on_wire_ms);
  // A connection was lost with pushes in flight, after `through_wire` bytes of pushes on it
  // reached the hub. Until acks show more, pushes in flight stay within what got through (two
  // pushes of half of it, so one can be on the wire while the other is acknowledged); nothing
  // through halves the allowance. Each ack then grows it by what it acknowledged.
  void OnConnectionLost(uint64_t through_wire);
  // A connection was lost while a Deliver page of `asked_bytes` was due: ask for half as much,
  // growing again twofold with each page that arrives.
  void OnDeliverLost(uint64_t asked_bytes);
  // Wire bytes allowed in flight after a loss; 0: no limit.
  uint64_t in_flight_limit() const { return in_flight_limit_; }

 private:
  void Retune();
  // Push size and window from the measured rate and round trip.
  void FitToRate();
  // Caps the push size and window to the in-flight limit.
  void Limit();

  const protocol::LinkOptions& options_;
  size_t batch_bytes_;
  int window_;
  double rate_ = 0;          // wire bytes per second
  double raw_per_wire_ = 1;  // how much larger changes are than their compressed pushes
  double down_rate_ = 0;     // wire bytes per second hub to site; 0 before a measurement
  double down_raw_per_wire_ = 1;
  uint64_t round_trip_ms_ = 0;  // smallest seen; 0 before any
  uint64_t in_flight_limit_ = 0;
  uint64_t deliver_limit_ = 0;  // change bytes per Deliver after a loss; 0: no limit
};

}  // namespace osrc::node

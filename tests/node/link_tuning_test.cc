// LinkTuning: the push size and window a node derives from what it measures of its link.
#include "node/link_tuning.h"

#include <gtest/gtest.h>

#include "protocol/run_history.h"

namespace osrc::node {
namespace {

protocol::LinkOptions TuningOptions() {
  protocol::LinkOptions options;
  options.batch_bytes = 1024 * 1024;
  options.min_batch_bytes = 4 * 1024;
  options.window = 4;
  options.heartbeat_timeout_ms = 6000;
  return options;
}

// Feeds the tuning what a link of `bytes_per_second` with `round_trip_ms` would show: the node
// keeps the window full, so after the first push each ack follows the previous one by the time
// the next push takes on the wire (the first's round trip taken out). Pushes compress tenfold.
void Drive(LinkTuning& tuning, double bytes_per_second, uint64_t round_trip_ms, int pushes) {
  tuning.OnRoundTrip(round_trip_ms);
  for (int i = 0; i < pushes; ++i) {
    uint64_t raw = tuning.batch_bytes();
    uint64_t wire = raw / 10;
    auto on_wire_ms = static_cast<uint64_t>(wire * 1000.0 / bytes_per_second);
    tuning.OnPushAcked(wire, raw, on_wire_ms);
  }
}

// Before an ack measures the link, a push holds as many changes as compress to 16 KiB on the wire,
// by what the last push sent compressed to; once measured, what is sent changes nothing.
TEST(LinkTuning, BeforeTheLinkIsMeasuredPushesHoldWhatCompressesToASafeSize) {
  protocol::LinkOptions options = TuningOptions();
  LinkTuning tuning(options);
  tuning.OnPushSent(6000, 60000);
  EXPECT_EQ(tuning.batch_bytes(), 10u * 16 * 1024);
  tuning.OnPushSent(30000, 60000);
  EXPECT_EQ(tuning.batch_bytes(), 2u * 16 * 1024);
  tuning.OnPushSent(1, 60000);
  EXPECT_EQ(tuning.batch_bytes(), options.batch_bytes) << "within the configured bounds";
  Drive(tuning, 6000, 2000, 4);
  size_t measured = tuning.batch_bytes();
  tuning.OnPushSent(1, measured);
  EXPECT_EQ(tuning.batch_bytes(), measured);
}

TEST(LinkTuning, StartsSmallWithinTheConfiguredBounds) {
  protocol::LinkOptions options = TuningOptions();
  LinkTuning tuning(options);
  EXPECT_LT(tuning.batch_bytes(), options.batch_bytes);
  EXPECT_GE(tuning.batch_bytes(), options.min_batch_bytes);
  EXPECT_EQ(tuning.window(), options.window);

  options.batch_bytes = 8 * 1024;
  LinkTuning small(options);
  EXPECT_EQ(small.batch_bytes(), 8u * 1024);
}

// Slow links get their pushes compressed harder; a fast or unmeasured one the cheap default, so a
// LAN sync is not held up by compression.
TEST(LinkTuning, SlowerLinksGetHarderCompression) {
  protocol::LinkOptions options = TuningOptions();
  LinkTuning unmeasured(options);
  constexpr size_t kRun = 64 * 1024;
  EXPECT_EQ(unmeasured.compression_level(kRun), protocol::kDefaultRunLevel);
  LinkTuning lan(options), dsl(options), two_g(options);
  Drive(lan, 50e6, 1, 8);
  Drive(dsl, 300e3, 40, 8);
  Drive(two_g, 6000, 2000, 8);
  EXPECT_EQ(lan.compression_level(kRun), protocol::kDefaultRunLevel);
  EXPECT_GT(dsl.compression_level(kRun), lan.compression_level(kRun));
  EXPECT_GT(two_g.compression_level(kRun), dsl.compression_level(kRun));
  EXPECT_EQ(two_g.compression_level(400), protocol::kDefaultRunLevel) << "one change alone";
}

TEST(LinkTuning, AFastLinkGrowsToTheConfiguredBatchAndWindow) {
  protocol::LinkOptions options = TuningOptions();
  LinkTuning tuning(options);
  Drive(tuning, 50e6, 1, 20);
  EXPECT_EQ(tuning.batch_bytes(), options.batch_bytes);
  EXPECT_EQ(tuning.window(), options.window);
}

// 2G: 6,000 bytes/s, 2 s round trips. A push must cross in a quarter of the 6 s heartbeat
// timeout (9,000 wire bytes), and the window holds a round trip's worth plus one.
TEST(LinkTuning, A2GLinkGetsPushesThatCrossWellInsideTheHeartbeatTimeout) {
  protocol::LinkOptions options = TuningOptions();
  LinkTuning tuning(options);
  Drive(tuning, 6000, 2000, 30);
  double seconds_on_wire = tuning.batch_bytes() / 10.0 / 6000.0;
  EXPECT_LE(seconds_on_wire, 1.6);
  EXPECT_GE(seconds_on_wire, 0.5) << "the batch collapsed below what the link carries";
  EXPECT_NEAR(tuning.rate(), 6000, 600);
  EXPECT_GE(tuning.window(), 2);
  EXPECT_LE(tuning.window(), 3);
}

// Latency alone is no reason to shrink: a satellite link (600 ms round trips) with bandwidth to
// spare keeps full batches.
TEST(LinkTuning, LatencyAloneDoesNotShrinkTheBatch) {
  protocol::LinkOptions options = TuningOptions();
  LinkTuning tuning(options);
  Drive(tuning, 2e6, 600, 30);
  EXPECT_EQ(tuning.batch_bytes(), options.batch_bytes);
}

// After a lost connection, pushes in flight stay within what got through: two pushes of half of
// it. Acks grow the allowance again until it no longer limits anything.
TEST(LinkTuning, ALostConnectionLimitsPushesInFlightToWhatGotThrough) {
  protocol::LinkOptions options = TuningOptions();
  LinkTuning tuning(options);
  Drive(tuning, 50e6, 1, 20);
  ASSERT_EQ(tuning.batch_bytes(), options.batch_bytes);
  tuning.OnConnectionLost(60'000);  // wire bytes; pushes compress tenfold
  EXPECT_EQ(tuning.in_flight_limit(), 60'000u);
  EXPECT_LE(tuning.batch_bytes() / 10 * static_cast<size_t>(tuning.window()), 60'000u);
  EXPECT_GE(tuning.window(), 2);
  EXPECT_GE(tuning.batch_bytes(), 250'000u);

  for (int i = 0; i < 40 && tuning.in_flight_limit() > 0; ++i) {
    tuning.OnPushAcked(tuning.batch_bytes() / 10, tuning.batch_bytes(), 1);
  }
  EXPECT_EQ(tuning.in_flight_limit(), 0u) << "acks never lifted the limit";
  EXPECT_EQ(tuning.batch_bytes(), options.batch_bytes);
  EXPECT_EQ(tuning.window(), options.window);
}

TEST(LinkTuning, ConnectionsLostWithNothingThroughHalveDownToTheFloor) {
  protocol::LinkOptions options = TuningOptions();
  LinkTuning tuning(options);
  Drive(tuning, 50e6, 1, 20);
  tuning.OnConnectionLost(0);
  EXPECT_LT(tuning.batch_bytes() / 10 * static_cast<size_t>(tuning.window()),
            options.batch_bytes / 10 * static_cast<size_t>(options.window));
  for (int i = 0; i < 30; ++i) tuning.OnConnectionLost(0);
  EXPECT_EQ(tuning.batch_bytes(), options.min_batch_bytes);
  EXPECT_EQ(tuning.window(), 1);
}

TEST(LinkTuning, ALostDeliverHalvesThePagesAskedFor) {
  protocol::LinkOptions options = TuningOptions();
  LinkTuning tuning(options);
  tuning.OnRoundTrip(1);
  for (int i = 0; i < 10; ++i) tuning.OnDelivered(100000, 800000, 3);
  uint32_t asked = tuning.deliver_bytes();
  tuning.OnDeliverLost(asked);
  EXPECT_EQ(tuning.deliver_bytes(), asked / 2);
  tuning.OnDelivered(1000, 8000, 3);
  EXPECT_EQ(tuning.deliver_bytes(), asked);
}

TEST(LinkTuning, GrowsAtMostTwofoldPerAcknowledgement) {
  protocol::LinkOptions options = TuningOptions();
  LinkTuning tuning(options);
  size_t before = tuning.batch_bytes();
  tuning.OnPushAcked(before / 10, before, 1);
  EXPECT_EQ(tuning.batch_bytes(), 2 * before);
}

// Deliver pages: small before the link is measured; then one page crosses the link in half the
// heartbeat timeout.
TEST(LinkTuning, DeliverPagesFitTheMeasuredDownlink) {
  protocol::LinkOptions options = TuningOptions();
  LinkTuning tuning(options);
  EXPECT_LE(tuning.deliver_bytes(), 16u * 1024);
  tuning.OnRoundTrip(2000);
  for (int i = 0; i < 10; ++i) {
    uint64_t raw = tuning.deliver_bytes();
    uint64_t wire = raw * 2 / 3;  // hub changes that compress badly
    tuning.OnDelivered(wire, raw, wire * 1000 / 6000);
  }
  double seconds_on_wire = tuning.deliver_bytes() * 2.0 / 3.0 / 6000.0;
  EXPECT_LE(seconds_on_wire, 3.3);
  EXPECT_GE(seconds_on_wire, 2.0) << "pages stayed smaller than the link carries";

  LinkTuning fast(options);
  fast.OnRoundTrip(1);
  for (int i = 0; i < 10; ++i) fast.OnDelivered(100000, 800000, 3);
  EXPECT_EQ(fast.deliver_bytes(), options.max_message_bytes / 2);
}

// The window holds two pages and what the link carries in a round trip: on a 64 kbit/s link with
// a 2 s round trip, 16,000 wire bytes, so the hub keeps sending while acknowledgements travel.
TEST(LinkTuning, DeliverWindowHoldsTheBandwidthDelayProduct) {
  protocol::LinkOptions options = TuningOptions();
  LinkTuning tuning(options);
  EXPECT_EQ(tuning.deliver_window(), 2 * tuning.deliver_bytes()) << "before a measurement";
  tuning.OnRoundTrip(2000);
  for (int i = 0; i < 10; ++i) {
    uint64_t wire = tuning.deliver_bytes() / 3;
    tuning.OnDelivered(wire, 3 * wire, wire * 1000 / 8000);
  }
  double page = tuning.deliver_bytes();
  double in_round_trip = 8000.0 * 2 * 3;  // wire bytes in 2 s, three raw bytes to one
  EXPECT_NEAR(tuning.deliver_window(), 2 * page + in_round_trip, 0.02 * (2 * page + in_round_trip));
  // Pages of unknown timing change nothing.
  uint32_t window = tuning.deliver_window();
  tuning.OnDelivered(100, 300, 0);
  EXPECT_EQ(tuning.deliver_window(), window);
  // After a lost page: two (halved) pages, no more, until pages arrive again.
  tuning.OnDeliverLost(tuning.deliver_bytes());
  EXPECT_EQ(tuning.deliver_window(), 2 * tuning.deliver_bytes());
}

}  // namespace
}  // namespace osrc::node

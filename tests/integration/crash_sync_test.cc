// Crash safety of a large sync: a site (MAS) holds 100,000 unsynced changes (osrc-gen: 50,000
// participants with one service each) and its daemon (`osrc-node run`) pushes them to a real
// `osrc-hub run`. At several random points of the sync the hub - and, in the other test, the
// node daemon - is killed with SIGKILL and started again on the same folder (and port); the
// daemon resumes by itself. The node reaches the hub through a FaultProxy throttled to
// kLinkBytesPerSecond, so the kills land mid-sync however fast the machine is.
//
// Invariants, checked at every observation:
//  - the node's acknowledged sequence (`osrc-node status --json` "acked") never decreases, also
//    across restarts of the node;
//  - the hub's "acked" for the site (`osrc-hub status --json` sites[].acked) never decreases and
//    is at least every value the node ever reported: nothing the hub acknowledged is lost;
//  - the hub holds exactly as many records of the site as it acknowledged changes (every change
//    of this data set creates one record): none lost, none duplicated.
// At the end: the node is in step with acked == log_head == 100,000, the hub holds 100,000
// distinct records of the site, no conflicts, and the exports of both sides are identical.
//
// The kill points are random thresholds of the node's "acked" (one in each fifth of the range
// 5%..80% of the log, and at least 2% beyond the previous kill), each followed by a random delay
// of up to 100 ms, from a seeded RNG (the seed is printed; set OSRC_CRASH_SYNC_SEED to replay).
// These delays are the fault injection; everything else waits for observable state (status
// --json, the hub's readiness line).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/cluster.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint64_t kTotal = 100'000;  // 50,000 participants x (1 + 1 service).
constexpr int kKills = 5;
constexpr uint64_t kMinProgress = kTotal / 50;  // between two kills
// The link's rate, so that the sync lasts long enough for the kills on any machine: a fast one
// cannot push faster, a slow one only takes longer (the waits have deadlines, not budgets).
constexpr uint64_t kLinkBytesPerSecond = 256 * 1024;
constexpr uint32_t kCrashSyncSeed = 20261129;

class CrashSync : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = static_cast<uint32_t>(SeedFromEnv("OSRC_CRASH_SYNC_SEED", kCrashSyncSeed));
    rng_.seed(seed_);
    std::cout << "[ seed     ] " << seed_ << " (set OSRC_CRASH_SYNC_SEED to replay)\n";
    hub_ = std::make_unique<ClusterHub>(tmp_);
    node_ = std::make_unique<ClusterNode>(tmp_, "MAS", *hub_);
    node_->Import(GenerateSample(tmp_, "MAS", {"--participants", "50000", "--services-per", "1"},
                                 "big.jsonl"));
    ASSERT_EQ(node_->Status()["log_head"], kTotal);
    // Pushes in flight when the hub dies are lost with its connection; the site gives up on
    // them after request_timeout_ms (default 30 s) and reconnects with backoff (up to 60 s).
    // Shorter here to keep the test fast; the paths are the same.
    node_->SetConfig("request_timeout_ms", "3000");
    node_->SetConfig("reconnect_max_ms", "1000");
    // Smaller pushes, fewer in flight, over a throttled link (see StartLink): status polls
    // catch the kill points in every slice of the log.
    node_->SetConfig("window", "2");
    node_->SetConfig("batch_bytes", "65536");
  }

  // Starts the hub, then a throttled FaultProxy in front of it, and points the node at the proxy.
  // The hub keeps its port across restarts, so the proxy keeps forwarding to it.
  void StartLink() {
    hub_->Start();
    proxy_ = std::make_unique<FaultProxy>(hub_->port());
    std::string error;
    ASSERT_TRUE(proxy_->Start(&error)) << error;
    proxy_->SetRate(kLinkBytesPerSecond);
    node_->SetConfig("endpoint", "'tcp://127.0.0.1:" + std::to_string(proxy_->port()) + "'");
  }

  // Kill points: a random "acked" threshold in each of kKills equal slices of 5%..70% of the log
  // (the last 30% leaves the last kill time to land before the sync ends).
  std::vector<uint64_t> KillPoints() {
    std::vector<uint64_t> points;
    const double low = 0.05, high = 0.70, slice = (high - low) / kKills;
    for (int i = 0; i < kKills; ++i) {
      std::uniform_real_distribution<double> in_slice(low + i * slice, low + (i + 1) * slice);
      points.push_back(static_cast<uint64_t>(in_slice(rng_) * kTotal));
    }
    return points;
  }

  // The random delay between reaching a kill point and the kill: fault injection.
  void RandomDelay() {
    std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(0, 100)(rng_)));
  }

  // Reads the node's "acked" and checks it never decreased.
  uint64_t NodeAcked() {
    uint64_t acked = node_->Status()["acked"].get<uint64_t>();
    EXPECT_GE(acked, node_last_acked_) << "the node's acknowledged sequence went back";
    node_last_acked_ = acked;
    node_max_acked_ = std::max(node_max_acked_, acked);
    return acked;
  }

  // Reads the hub's "acked" of the site (running or not) and checks the hub invariants.
  uint64_t HubAcked() {
    json site = hub_->SiteStatus("MAS");
    EXPECT_TRUE(site.is_object());
    if (!site.is_object()) return 0;
    uint64_t acked = site["acked"].get<uint64_t>();
    EXPECT_GE(acked, hub_last_acked_) << "the hub's acknowledged sequence went back";
    EXPECT_GE(acked, node_max_acked_)
        << "the hub lost changes it had acknowledged to the node: " << site.dump();
    EXPECT_EQ(site["records"], acked)
        << "the hub's records of the site do not match the changes it acknowledged";
    hub_last_acked_ = acked;
    return acked;
  }

  // Waits until the node's "acked" reaches `point`, and at least kMinProgress beyond where the
  // previous kill found it (a poll may overshoot a kill point into the next slice; every kill
  // still comes after some progress of the resumed sync).
  void WaitForAcked(uint64_t point) {
    point = std::min(kTotal, std::max(point, acked_at_last_kill_ + kMinProgress));
    uint64_t acked = 0;
    bool reached = PollUntil(
        DeadlineIn(seconds(60)),
        [&] {
          acked = NodeAcked();
          return acked >= point;
        },
        milliseconds(20));
    ASSERT_TRUE(reached) << "node acknowledged " << acked << " of " << kTotal
                         << ", never reached the kill point " << point << "\n"
                         << (node_->daemon() ? node_->daemon()->stderr_text() : "");
  }

  // The end state: everything acknowledged, on both sides, once, and identical.
  void ExpectComplete() {
    json status;
    ASSERT_TRUE(WaitInStep(*node_, seconds(90), &status)) << status.dump() << "\n"
                                                          << node_->daemon()->stderr_text();
    NodeAcked();
    EXPECT_EQ(status["acked"], kTotal);
    EXPECT_EQ(status["log_head"], kTotal);
    EXPECT_EQ(HubAcked(), kTotal);
    ExpectSameRecordsOnce(*hub_, *node_, kTotal);
    EXPECT_EQ(hub_->Cli({"conflicts"}), "");
    ExpectConverged(*hub_, *node_);
  }

  // Starts the hub and the node's daemon; at each kill point runs `kill` (kills one side and
  // returns the "acked" of the killed side), then `restart`; then ExpectComplete().
  void KillAtRandomPoints(const std::function<uint64_t()>& kill,
                          const std::function<void()>& restart) {
    std::vector<uint64_t> points = KillPoints();
    ASSERT_NO_FATAL_FAILURE(StartLink());
    node_->Start();
    int mid_sync = 0;
    for (int i = 0; i < kKills; ++i) {
      SCOPED_TRACE("kill " + std::to_string(i + 1) + " at acked >= " + std::to_string(points[i]));
      ASSERT_NO_FATAL_FAILURE(WaitForAcked(points[i]));
      RandomDelay();
      if (kill() < kTotal) ++mid_sync;
      acked_at_last_kill_ = node_last_acked_;
      ASSERT_NO_FATAL_FAILURE(restart());
    }
    std::cout << "[ figures  ] " << mid_sync << " of " << kKills << " kills landed mid-sync, "
              << proxy_->Stats().bytes_up << " bytes pushed over the link\n";
    EXPECT_GE(mid_sync, kKills - 1) << "the sync finished before most kills";
    ExpectComplete();
    node_->Stop();
    hub_->Stop();
  }

  TempDir tmp_{"osrc-crash-sync"};
  std::unique_ptr<ClusterHub> hub_;
  std::unique_ptr<ClusterNode> node_;
  std::unique_ptr<FaultProxy> proxy_;  // node -> proxy -> hub
  uint32_t seed_ = 0;
  std::mt19937 rng_;
  uint64_t node_last_acked_ = 0;
  uint64_t node_max_acked_ = 0;
  uint64_t hub_last_acked_ = 0;
  uint64_t acked_at_last_kill_ = 0;
};

TEST_F(CrashSync, HubKilledAtRandomPointsLosesNoAcknowledgedChange) {
  SCOPED_TRACE("seed " + std::to_string(seed_));
  KillAtRandomPoints(
      [&] {
        hub_->Crash();
        uint64_t hub_acked = HubAcked();
        NodeAcked();  // the node cannot be ahead of what the dead hub holds
        HubAcked();
        std::cout << "[ kill     ] hub killed at hub acked " << hub_acked << ", node acked "
                  << node_last_acked_ << "\n";
        return hub_acked;
      },
      [&] {
        EXPECT_TRUE(node_->daemon()->running()) << node_->daemon()->stderr_text();
        hub_->Start();  // same folder, same port: the node's daemon finds it again by itself
      });
}

TEST_F(CrashSync, NodeKilledAtRandomPointsResumesWithoutLossOrDuplicates) {
  SCOPED_TRACE("seed " + std::to_string(seed_));
  KillAtRandomPoints(
      [&] {
        node_->Crash();
        uint64_t node_acked = NodeAcked();  // what the killed node kept: never less than before
        uint64_t hub_acked = HubAcked();
        std::cout << "[ kill     ] node killed at node acked " << node_acked << ", hub acked "
                  << hub_acked << "\n";
        return node_acked;
      },
      [&] {
        ASSERT_TRUE(hub_->running()) << hub_->daemon()->stderr_text();
        node_->Start();
      });
}

}  // namespace
}  // namespace osrc::testing

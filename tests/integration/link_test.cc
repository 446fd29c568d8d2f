// Link faults between a site node and the hub: a real `osrc-hub run` and real `osrc-node`
// processes talking CurveZMQ through a FaultProxy (tests/support/fault_proxy.h) that runs in the
// test process and stands for the link: blackholes, connection cuts, a 2G throttle.
//
//  - a blackholed link is detected within a small multiple of heartbeat_ms +
//    heartbeat_timeout_ms, shown in `status --json` (link state and last_error), and the daemon
//    gets back in step by itself once the link heals;
//  - after cuts the node resends at most the pushes that were in flight (bytes up through the
//    proxy, against a clean run of the same data), and the hub ends with exactly the records;
//  - on a 2G link (6,000 bytes/s, 1 s one way) with batch_bytes configured at 1 MiB, every push
//    crosses the link well inside the hub's heartbeat timeout, no session is lost and the sync
//    completes;
//  - a push cut in transfer is never applied in part: at every observation the hub holds exactly
//    as many records of the site as it acknowledged changes, and its acknowledged sequence is
//    always the end of a push the node sent;
//  - `status --json` shows the link state and the reason of the last failure;
//  - `osrc-node sync` reports how long its session took, at least the link's round trips that a
//    secure session needs and no more than the process ran.
//
// Nothing sleeps to synchronise: the tests wait for a daemon's readiness line, for a command to
// exit, or poll `status --json` until a condition holds or a deadline passes.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/cluster.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * 1024;

int64_t MillisSince(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

// A hub (daemon running) and a site node whose hub endpoint is a FaultProxy in front of it.
class Link {
 public:
  explicit Link(const TempDir& tmp, const std::string& tag = "",
                ClusterNode::Options node_options = {})
      : hub_(tmp, "hub" + tag), proxy_((hub_.Start(), hub_.port())) {
    std::string error;
    if (!proxy_.Start(&error)) throw std::runtime_error("fault proxy: " + error);
    if (node_options.folder.empty()) node_options.folder = "node" + tag;
    node_ = std::make_unique<ClusterNode>(tmp, "MAS", hub_, std::move(node_options));
    node_->SetConfig("endpoint", "'tcp://127.0.0.1:" + std::to_string(proxy_.port()) + "'");
  }

  ClusterHub& hub() { return hub_; }
  FaultProxy& proxy() { return proxy_; }
  ClusterNode& node() { return *node_; }

  // Sets [sync] keys of node.toml.
  void SetSync(std::initializer_list<std::pair<std::string, std::string>> values) {
    for (const auto& [key, value] : values) node_->SetConfig(key, value);
  }

 private:
  ClusterHub hub_;
  FaultProxy proxy_;
  std::unique_ptr<ClusterNode> node_;
};

// The pushes a node logged at debug level ("push FIRST..LAST (R bytes raw, W on the wire"), in
// order.
struct PushLine {
  uint64_t first;
  uint64_t last;
  uint64_t raw_bytes;
  uint64_t wire_bytes;
};

std::vector<PushLine> PushesInLog(const std::string& log) {
  static const std::regex kPush(R"(push (\d+)\.\.(\d+) \((\d+) bytes raw, (\d+) on the wire)");
  std::vector<PushLine> pushes;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), kPush); it != std::sregex_iterator();
       ++it) {
    pushes.push_back({std::stoull((*it)[1]), std::stoull((*it)[2]), std::stoull((*it)[3]),
                      std::stoull((*it)[4])});
  }
  return pushes;
}

std::string LastError(const json& status) { return status.value("last_error", ""); }

// A node that logs at debug level, for the "push FIRST..LAST" lines.
ClusterNode::Options DebugLogging() {
  ClusterNode::Options options;
  options.env = {{"OSRC_LOG_LEVEL", "debug"}};
  return options;
}

// 1. A blackholed link (nothing passes, sockets stay open) is noticed through the heartbeats; the
// status shows it with its reason; after the link heals the daemon reconnects by itself (backoff)
// and a change made meanwhile reaches the hub.
TEST(LinkFaults, BlackholeIsDetectedAndTheNodeRecoversByItself) {
  constexpr int kHeartbeatMs = 500;
  constexpr int kHeartbeatTimeoutMs = 1500;
  TempDir tmp("osrc-link");
  Link link(tmp);
  ClusterNode& node = link.node();
  link.SetSync({{"heartbeat_ms", std::to_string(kHeartbeatMs)},
                {"heartbeat_timeout_ms", std::to_string(kHeartbeatTimeoutMs)},
                // Backoff waits of at least 0.5 s keep the failure visible in status between
                // attempts; each attempt into the blackhole gives up after 4 s.
                {"reconnect_min_ms", "1000"},
                {"reconnect_max_ms", "2000"},
                {"request_timeout_ms", "4000"}});
  node.Import(GenerateSample(tmp, "MAS", {"--participants", "20"}, "first.jsonl"));
  node.Start();
  json status;
  ASSERT_TRUE(WaitInStep(node, seconds(30), &status)) << status.dump();
  EXPECT_EQ(LastError(status), "");

  link.proxy().Blackhole(true);
  Clock::time_point blackholed = Clock::now();
  // Detection: the link leaves "in step" and the status names why. The deadlines themselves are
  // tested on LinkSession with a fake clock; this bound only catches a link never given up.
  const auto bound = seconds(30);
  bool detected = PollUntil(
      DeadlineIn(bound),
      [&] {
        status = node.Status();
        return status.value("link", "") != "in step" && !LastError(status).empty();
      },
      milliseconds(20));
  int64_t detection_ms = MillisSince(blackholed);
  ASSERT_TRUE(detected) << "no failure shown within " << bound.count()
                        << " ms of the blackhole: " << status.dump();
  std::cout << "[ figures  ] blackhole detected after " << detection_ms << " ms (heartbeat "
            << kHeartbeatMs << "/" << kHeartbeatTimeoutMs << " ms), status: link \""
            << status.value("link", "") << "\", last_error \"" << LastError(status) << "\"\n";
  EXPECT_TRUE(Contains(LastError(status), "link lost") || Contains(LastError(status), "no answer"))
      << status.dump();
  EXPECT_TRUE(Contains(ReadFile(node.Path("node.log")), "link down: ")) << "no line in node.log";

  // A change made while the link is down, then the link heals: no restart, no command.
  node.Import(GenerateSample(tmp, "MAS", {"--participants", "1", "--start", "21"}, "second.jsonl"));
  link.proxy().Heal();
  ASSERT_TRUE(WaitInStep(node, seconds(30), &status)) << status.dump();
  EXPECT_EQ(status["log_head"], 21 * 3);  // 21 participants with 2 services each.
  EXPECT_TRUE(Contains(link.hub().ExportSite("MAS"), "MAS-P0000021"));
  ExpectConverged(link.hub(), node);
  EXPECT_GT(link.proxy().Stats().accepted, 1u) << "the node never reconnected";
  node.Stop();
}

// 2. Cut the connection every 256 KiB during a 30,000-record sync (some 550 KB on the wire): the
// node resends at most what was in flight at each cut (window x batch_bytes), and the hub ends
// with exactly the records.
TEST(LinkFaults, AfterCutsTheNodeResendsAtMostTheBatchesInFlight) {
  constexpr int kWindow = 4;
  constexpr uint64_t kBatchBytes = 16 * kKiB;  // Window x batch (64 KiB) well below a cut.
  constexpr uint64_t kCutAfter = 256 * kKiB;
  constexpr uint64_t kRecords = 30'000;
  TempDir tmp("osrc-link");
  std::string data =
      GenerateSample(tmp, "MAS", {"--participants", "10000", "--services-per", "2"}, "30k.jsonl");
  auto configure = [&](Link& link) {
    link.SetSync({{"window", std::to_string(kWindow)},
                  {"batch_bytes", std::to_string(kBatchBytes)},
                  {"reconnect_min_ms", "100"},
                  {"reconnect_max_ms", "500"}});
  };

  // The payload of a clean run: the same data over the same (fault-free) proxy.
  uint64_t clean_up = 0;
  {
    Link clean(tmp, "-clean");
    configure(clean);
    clean.node().Import(data);
    RunResult result = clean.node().Sync(120);
    ASSERT_TRUE(result.ok()) << result.Describe();
    clean_up = clean.proxy().Stats().bytes_up;
    ASSERT_EQ(clean.hub().SiteStatus("MAS")["records"], kRecords);
  }

  Link link(tmp, "-cut");
  configure(link);
  ClusterNode& node = link.node();
  node.Import(data);
  // Every connection is reset once it has carried 256 KiB (CutAfter applies to each new
  // connection afresh), so the sync needs several connections.
  link.proxy().CutAfter(kCutAfter);
  node.Start();
  json status;
  ASSERT_TRUE(WaitInStep(node, seconds(180), &status)) << status.dump();
  FaultProxyStats stats = link.proxy().Stats();
  node.Stop();

  EXPECT_GE(stats.cut, 1u) << "no connection was cut: the test proves nothing";
  // Per connection beyond the first: handshake, Hello/Welcome, keep-alives.
  constexpr uint64_t kPerConnection = 4 * kKiB;
  uint64_t bound =
      clean_up + stats.cut * kWindow * kBatchBytes + (stats.accepted - 1) * kPerConnection;
  std::cout << "[ figures  ] 30,000 records: clean run " << clean_up << " bytes up; with "
            << stats.cut << " cuts (every " << kCutAfter << " bytes) " << stats.bytes_up
            << " bytes up over " << stats.accepted << " connections: "
            << static_cast<int64_t>(stats.bytes_up) - static_cast<int64_t>(clean_up)
            << " bytes more; bound " << bound << "\n";
  EXPECT_LE(stats.bytes_up, bound);

  // Exactly the records: none lost, none twice.
  EXPECT_TRUE(
      SameExport("exports of MAS (site, hub)", node.ExportOwn(), link.hub().ExportSite("MAS")));
  json site = link.hub().SiteStatus("MAS");
  EXPECT_EQ(site["records"], kRecords) << site.dump();
  EXPECT_EQ(site["acked"], kRecords) << site.dump();
}

// 2b. A flaky 2G link resets every connection after 128 KiB: with the default push size and
// window, more is in flight than a connection carries. The node sizes the next connection's
// pushes to what got through and retries soon after any progress, so the first sync of 30,000
// records finishes: every connection but the first few gets changes through.
TEST(LinkFaults, AFirstSyncFinishesThroughALinkThatResetsEvery128KiB) {
  constexpr uint64_t kRecords = 30'000;
  TempDir tmp("osrc-link");
  std::string data =
      GenerateSample(tmp, "MAS", {"--participants", "10000", "--services-per", "2"}, "30k.jsonl");
  int64_t clean_ms = 0;
  {
    Link clean(tmp, "-clean");
    clean.node().Import(data);
    auto start = Clock::now();
    clean.node().Start();
    json status;
    ASSERT_TRUE(WaitInStep(clean.node(), seconds(120), &status)) << status.dump();
    clean_ms = MillisSince(start);
    clean.node().Stop();
  }
  for (uint64_t cut_after : {128 * kKiB, 256 * kKiB}) {
    Link link(tmp, "-cut" + std::to_string(cut_after));
    ClusterNode& node = link.node();
    node.Import(data);
    link.proxy().CutAfter(cut_after);
    auto start = Clock::now();
    node.Start();
    json status;
    ASSERT_TRUE(WaitInStep(node, seconds(240), &status))
        << "cut every " << cut_after << " bytes: " << status.dump() << " after "
        << link.proxy().Stats().accepted << " connections";
    int64_t took_ms = MillisSince(start);
    FaultProxyStats stats = link.proxy().Stats();
    node.Stop();
    std::cout << "[ figures  ] 30,000 records, first sync: clean " << clean_ms << " ms; cut every "
              << cut_after << " bytes " << took_ms << " ms, " << stats.accepted << " connections, "
              << stats.cut << " cut, " << stats.bytes_up << " bytes up\n";
    EXPECT_GE(stats.cut, 1u) << "no connection was cut: the test proves nothing";
    json site = link.hub().SiteStatus("MAS");
    EXPECT_EQ(site["records"], kRecords) << site.dump();
    EXPECT_EQ(site["acked"], kRecords) << site.dump();
  }
}

// 3. A 2G link (6,000 bytes/s each way, 1 s one way) with batch_bytes configured at 1 MiB. The
// whole log (some 850 KB raw, 90 KB on the wire) fits one such batch, which would need 15 s on
// this link as a single message: longer than the hub's heartbeat timeout (6 s) lets a peer go
// without a complete message, so the hub would drop the link every time. The node measures the
// link and sends pushes that cross it in a fraction of the timeout: no session is lost.
TEST(LinkFaults, TwoGLinkGetsPushesThatFitTheLinkAndCompletes) {
  constexpr uint64_t kRate = 6000;
  constexpr uint64_t kHeartbeatTimeoutMs = 6000;
  TempDir tmp("osrc-link");
  Link link(tmp, "", DebugLogging());
  ClusterNode& node = link.node();
  link.SetSync({{"batch_bytes", std::to_string(kMiB)},
                {"heartbeat_timeout_ms", std::to_string(kHeartbeatTimeoutMs)},
                {"request_timeout_ms", "20000"},
                {"reconnect_min_ms", "100"},
                {"reconnect_max_ms", "1000"}});
  node.Import(
      GenerateSample(tmp, "MAS", {"--participants", "667", "--services-per", "2"}, "2k.jsonl"));
  const uint64_t head = node.Status()["log_head"].get<uint64_t>();
  ASSERT_EQ(head, 2001u);
  link.proxy().SetRate(kRate);
  link.proxy().SetLatency(1000);

  Clock::time_point start = Clock::now();
  node.Start();
  json status;
  bool in_step = WaitInStep(node, seconds(85), &status, milliseconds(500));
  int64_t took_ms = MillisSince(start);
  FaultProxyStats stats = link.proxy().Stats();
  node.Stop();  // Flushes the debug lines of its log.
  std::string log = ReadFile(node.Path("node.log"));
  ASSERT_TRUE(in_step) << "not in step after 85 s on the 2G link: " << status.dump() << "\n" << log;
  std::vector<PushLine> pushes = PushesInLog(log);
  ASSERT_FALSE(pushes.empty()) << log;
  uint64_t largest_wire = 0;
  for (const PushLine& push : pushes) largest_wire = std::max(largest_wire, push.wire_bytes);
  std::cout << "[ figures  ] 2G link (6000 B/s, 1000 ms): " << head << " changes in step after "
            << took_ms << " ms, " << stats.bytes_up << " bytes up, " << stats.bytes_down
            << " down, " << stats.accepted << " connections, " << pushes.size()
            << " pushes, largest " << largest_wire << " bytes on the wire\n";

  // Every push crossed in at most half the heartbeat timeout, and none had to be sent again.
  EXPECT_LE(largest_wire, kRate * kHeartbeatTimeoutMs / 1000 / 2);
  EXPECT_GT(pushes.size(), 1u);
  EXPECT_FALSE(Contains(log, "link down: ")) << log;
  EXPECT_EQ(stats.accepted, 1u) << "the link was set up more than once";
  ExpectConverged(link.hub(), node);
}

// 3b. The other way: the hub delivers 1,000 new reference records (names of random letters, so
// they compress badly: some 70 KB on the wire) to a site on the 2G link. The site asks for
// Deliver pages its link carries well inside the heartbeat timeout, measured as they come;
// one page of the hub's default 2,000 entries would outlast the timeout, and the site would
// drop the link every time.
TEST(LinkFaults, TwoGLinkGetsDeliveriesThatFitTheLink) {
  TempDir tmp("osrc-link");
  Link link(tmp, "", DebugLogging());
  ClusterNode& node = link.node();
  link.SetSync(
      {{"request_timeout_ms", "20000"}, {"reconnect_min_ms", "100"}, {"reconnect_max_ms", "1000"}});
  std::mt19937 rng(20261128);
  std::string agencies;
  constexpr int kAgencies = 1000;
  for (int i = 0; i < kAgencies; ++i) {
    std::string name;
    for (int c = 0; c < 40; ++c) name += static_cast<char>('a' + rng() % 26);
    agencies += R"({"collection":"agencies","id":"AG)" + std::to_string(i) +
                R"(","fields":{"name":")" + name + "\"}}\n";
  }
  WriteFile(tmp.Path("agencies.jsonl"), agencies);
  link.hub().Cli({"ref", "import", "agencies", tmp.Path("agencies.jsonl")});
  link.proxy().SetRate(6000);
  link.proxy().SetLatency(1000);

  Clock::time_point start = Clock::now();
  node.Start();
  json status;
  bool in_step = WaitInStep(node, seconds(90), &status, milliseconds(500));
  int64_t took_ms = MillisSince(start);
  FaultProxyStats stats = link.proxy().Stats();
  node.Stop();
  std::string log = ReadFile(node.Path("node.log"));
  ASSERT_TRUE(in_step) << "not in step after 90 s on the 2G link: " << status.dump() << "\n"
                       << log.substr(0, 4000);
  std::cout << "[ figures  ] 2G link, " << kAgencies << " reference records delivered in "
            << took_ms << " ms, " << stats.bytes_down << " bytes down over " << stats.accepted
            << " connections\n";
  EXPECT_FALSE(Contains(log, "link down: ")) << log.substr(0, 4000);
  EXPECT_EQ(stats.accepted, 1u);
  EXPECT_EQ(node.Get("agencies", "AG999"), link.hub().Cli({"get", "agencies", "AG999"}));
  EXPECT_EQ(status["reference_version"], link.hub().Status()["log_head"]);
}

// 4. Cut connections in the middle of pushes: the hub applies a push whole or not at all. While
// the node syncs through a link cut every 64 KiB, every hub status read shows as many records
// of the site as acknowledged changes (each change of this data set makes one record), and an
// acknowledged sequence that ends a push the node sent.
TEST(LinkFaults, APushCutInTransferIsNeverAppliedInPart) {
  TempDir tmp("osrc-link");
  Link link(tmp, "", DebugLogging());
  ClusterNode& node = link.node();
  link.SetSync(
      {{"reconnect_min_ms", "100"}, {"reconnect_max_ms", "500"}, {"request_timeout_ms", "5000"}});
  node.Import(
      GenerateSample(tmp, "MAS", {"--participants", "5000", "--services-per", "1"}, "10k.jsonl"));
  constexpr uint64_t kRecords = 10'000;
  link.proxy().CutAfter(64 * kKiB);
  node.Start();

  std::vector<std::pair<uint64_t, uint64_t>> seen;  // (acked, records) at the hub
  json site;
  bool done = PollUntil(
      DeadlineIn(seconds(120)),
      [&] {
        site = link.hub().SiteStatus("MAS");
        uint64_t acked = site["acked"].get<uint64_t>();
        uint64_t records = site["records"].get<uint64_t>();
        if (seen.empty() || seen.back() != std::make_pair(acked, records)) {
          seen.emplace_back(acked, records);
        }
        return acked == kRecords;
      },
      milliseconds(20));
  ASSERT_TRUE(done) << site.dump();
  json status;
  ASSERT_TRUE(WaitInStep(node, seconds(30), &status)) << status.dump();
  FaultProxyStats stats = link.proxy().Stats();
  node.Stop();
  EXPECT_GE(stats.cut, 2u) << "too few cuts: the test proves little";

  std::set<uint64_t> push_ends = {0};
  for (const PushLine& push : PushesInLog(ReadFile(node.Path("node.log")))) {
    push_ends.insert(push.last);
  }
  std::string observed;
  for (const auto& [acked, records] : seen) {
    observed += " " + std::to_string(acked) + "/" + std::to_string(records);
    EXPECT_EQ(records, acked) << "a record without its acknowledgement, or the reverse";
    EXPECT_TRUE(push_ends.contains(acked)) << "acked " << acked << " ends no push the node sent";
  }
  std::cout << "[ figures  ] " << stats.cut << " cuts; hub acked/records observed:" << observed
            << "\n";
  EXPECT_GE(seen.size(), 3u) << "too few distinct observations:" << observed;
  ExpectConverged(link.hub(), node);
}

// 4b. Pushes and Delivers are compressed against what their connection carried before
// (protocol/run_history.h). Cut the link every 48 KiB while the site pushes 6,000 records in
// small pushes and the hub delivers 3,000 reference records: each cut falls inside such a stream,
// and each new connection must start both histories afresh, or its first run would be refused as
// out of step. Nothing is refused, nothing lost, both sides converge.
TEST(LinkFaults, ACutInsideACompressedStreamLosesNothingAndTheNextConnectionStartsAfresh) {
  TempDir tmp("osrc-link");
  Link link(tmp, "", DebugLogging());
  ClusterNode& node = link.node();
  link.SetSync({{"batch_bytes", "16384"},
                {"reconnect_min_ms", "100"},
                {"reconnect_max_ms", "500"},
                {"request_timeout_ms", "5000"}});
  node.Import(
      GenerateSample(tmp, "MAS", {"--participants", "3000", "--services-per", "1"}, "6k.jsonl"));
  std::string agencies;
  for (int i = 0; i < 3000; ++i) {
    agencies += R"({"collection":"agencies","id":"AG)" + std::to_string(i) +
                R"(","fields":{"name":"Agency )" + std::to_string(i * 7919 % 100003) + "\"}}\n";
  }
  WriteFile(tmp.Path("agencies.jsonl"), agencies);
  link.hub().Cli({"ref", "import", "agencies", tmp.Path("agencies.jsonl")});
  link.proxy().CutAfter(48 * kKiB);
  node.Start();
  json status;
  ASSERT_TRUE(WaitInStep(node, seconds(120), &status)) << status.dump();
  FaultProxyStats stats = link.proxy().Stats();
  node.Stop();
  std::string log = ReadFile(node.Path("node.log"));
  std::cout << "[ figures  ] " << stats.cut << " cuts over " << stats.accepted << " connections; "
            << stats.bytes_up << " bytes up, " << stats.bytes_down << " bytes down\n";
  EXPECT_GE(stats.cut, 3u) << "too few cuts: the test proves little";
  EXPECT_GE(PushesInLog(log).size(), 20u) << "too few pushes to chain";
  EXPECT_FALSE(Contains(log, "hub refused")) << log.substr(0, 4000);
  EXPECT_FALSE(Contains(log, "compressed after")) << log.substr(0, 4000);
  EXPECT_FALSE(Contains(link.hub().daemon()->stderr_text(), "compressed after"));
  ExpectConverged(link.hub(), node);
  EXPECT_EQ(status["reference_version"], link.hub().Status()["log_head"]);
  EXPECT_EQ(node.Get("agencies", "AG2999"), link.hub().Cli({"get", "agencies", "AG2999"}));
}

// 5. The link state and the reason of the last failure are visible in `status --json` while the
// daemon runs.
TEST(LinkFaults, StatusShowsTheLinkStateAndTheLastFailure) {
  TempDir tmp("osrc-link");
  Link link(tmp);
  ClusterNode& node = link.node();
  // A backoff wait of 1..2 s after the first failure: long enough to read the status in it.
  link.SetSync({{"reconnect_min_ms", "2000"}, {"reconnect_max_ms", "4000"}});
  node.Start();
  json status;
  ASSERT_TRUE(WaitInStep(node, seconds(30), &status)) << status.dump();
  EXPECT_EQ(status["link"], "in step");
  EXPECT_EQ(LastError(status), "");

  link.proxy().CutNow();
  bool shown = PollUntil(
      DeadlineIn(seconds(10)),
      [&] {
        status = node.Status();
        return status.value("link", "").starts_with("backoff") && !LastError(status).empty();
      },
      milliseconds(20));
  ASSERT_TRUE(shown) << status.dump();
  EXPECT_TRUE(Contains(LastError(status), "link lost")) << status.dump();
  EXPECT_TRUE(Contains(LastError(status), std::to_string(link.proxy().port()))) << status.dump();

  // Back in step by itself; the reason of the failure stays on show, with its time.
  ASSERT_TRUE(WaitInStep(node, seconds(30), &status)) << status.dump();
  EXPECT_TRUE(Contains(LastError(status), "link lost")) << status.dump();
  EXPECT_GT(status.value("last_error_ms", uint64_t{0}), 0u) << status.dump();
  node.Stop();
  EXPECT_EQ(node.Status()["link"], "stopped");
}

// 6. `osrc-node sync` says how long its session took: from starting to connect until in step. Over
// a link with 100 ms one way, the ZMTP greeting, the CURVE handshake, the Hello and a push each
// take a round trip before in step, so the session takes at least three; the process, which also
// opens the store and exits, at least as long as the session.
TEST(LinkFaults, ASyncReportsHowLongItsSessionTook) {
  TempDir tmp("osrc-link");
  Link link(tmp);
  ClusterNode& node = link.node();
  node.Import(GenerateSample(tmp, "MAS", {"--participants", "20"}, "mas.jsonl"));
  link.proxy().SetLatency(100);
  auto start = Clock::now();
  RunResult sync = node.Sync();
  int64_t process_ms = MillisSince(start);
  ASSERT_TRUE(sync.ok()) << sync.Describe();
  std::smatch line;
  ASSERT_TRUE(std::regex_search(
      sync.out, line, std::regex(R"(^in step after (\d+)\.(\d{3}) s: acknowledged (\d+),)")))
      << sync.out;
  int64_t session_ms = std::stoll(line[1]) * 1000 + std::stoll(line[2]);
  EXPECT_GE(session_ms, 3 * 200) << sync.out;
  EXPECT_LE(session_ms, process_ms) << sync.out;
  EXPECT_EQ(std::stoull(line[3]), link.hub().SiteStatus("MAS")["acked"].get<uint64_t>());
}

}  // namespace
}  // namespace osrc::testing

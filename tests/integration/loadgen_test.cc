// osrc-loadgen against the real osrc-hub: many sites in one process, each with its own key and
// connection, are admitted, have every change acknowledged and receive the hub's reference data.
// Also what the hub's key lookup must get right while it runs: a site enrolled after the start
// gets in, a revoked one does not.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.h"

namespace osrc::testing {
namespace {

using std::chrono::seconds;

std::string MakeKeys(const TempDir& tmp, const std::string& name, int sites,
                     const std::string& prefix) {
  std::string path = tmp.Path(name);
  MustRun(BinArgs("osrc-loadgen",
                  {"keys", "--sites", std::to_string(sites), "--out", path, "--prefix", prefix}));
  return path;
}

// MakeKeys, every site enrolled at `hub`.
std::string EnrolledKeys(const TempDir& tmp, const ClusterHub& hub, const std::string& name,
                         int sites, const std::string& prefix) {
  std::string path = MakeKeys(tmp, name, sites, prefix);
  MustRun(BinArgs("osrc-hub", {"enrol", "--data", hub.dir(), "--file", path}));
  return path;
}

RunResult RunLoad(const ClusterHub& hub, const std::string& keys, int changes,
                  const std::string& until_cursor, const std::string& timeout,
                  const std::vector<std::string>& more = {}) {
  std::vector<std::string> args =
      BinArgs("osrc-loadgen", {"run", "--keys", keys, "--hub", hub.endpoint(), "--hub-key",
                               hub.key(), "--changes-per-site", std::to_string(changes), "--rate",
                               "20", "--until-cursor", until_cursor, "--timeout", timeout});
  args.insert(args.end(), more.begin(), more.end());
  return Run(args, {}, seconds(120));
}

nlohmann::json SiteOf(const nlohmann::json& status, const std::string& code) {
  for (const nlohmann::json& site : status.at("sites")) {
    if (site.at("site") == code) return site;
  }
  return {};
}

TEST(Loadgen, ManySitesInOneProcessHaveEveryChangeAcknowledgedAndGetTheReferenceUpdate) {
  TempDir tmp("osrc-loadgen");
  ClusterHub hub(tmp);
  std::string keys = EnrolledKeys(tmp, hub, "keys.csv", 40, "LA");
  WriteFile(tmp.Path("towns.jsonl"),
            "{\"collection\":\"localities\",\"id\":\"9900000001\",\"fields\":{\"name\":\"A\"}}\n"
            "{\"collection\":\"localities\",\"id\":\"9900000002\",\"fields\":{\"name\":\"B\"}}\n");
  MustRun(BinArgs("osrc-hub",
                  {"ref", "import", "--data", hub.dir(), "localities", tmp.Path("towns.jsonl")}));
  auto status = [&] {
    return nlohmann::json::parse(
        MustRun(BinArgs("osrc-hub", {"status", "--data", hub.dir(), "--json"})));
  };
  uint64_t head = status().at("log_head");
  ASSERT_GE(head, 2u);
  hub.Start();

  RunResult run = RunLoad(hub, keys, 5, std::to_string(head), "60");
  ASSERT_TRUE(run.ok()) << run.Describe();
  nlohmann::json result = nlohmann::json::parse(LastLine(run.out));
  EXPECT_EQ(result.at("sites_connected"), 40);
  EXPECT_EQ(result.at("changes_acked"), 200);
  EXPECT_EQ(result.at("changes_expected"), 200);
  EXPECT_EQ(result.at("sites_at_cursor"), 40);
  EXPECT_GE(result.at("delivered").get<uint64_t>(), 40 * head);
  EXPECT_LE(result.at("ack_p50_ms").get<double>(), result.at("ack_p99_ms").get<double>());
  EXPECT_LE(result.at("ack_p99_after_connect_ms").get<double>(),
            result.at("ack_max_ms").get<double>());
  EXPECT_GT(result.at("cpu_seconds").get<double>(), 0.0);  // 40 sites over its 4 poll loops

  nlohmann::json after = status();
  EXPECT_EQ(after.at("sites").size(), 40u);
  for (const nlohmann::json& site : after.at("sites")) {
    EXPECT_EQ(site.at("acked"), 5) << site.dump();
    EXPECT_EQ(site.at("records"), 5) << site.dump();
  }
  std::string exported = MustRun(BinArgs(
      "osrc-hub", {"export", "--data", hub.dir(), "--site", "LA0007", "--include-personal"}));
  EXPECT_EQ(SplitLines(exported).size(), 5u);
  EXPECT_TRUE(Contains(exported, "\"given_name\":\"Site LA0007\"")) << exported;
}

// As a fleet comes back over its reconnect backoff: site i of N first connects at i * S / N.
TEST(Loadgen, SitesFirstConnectOverTheGivenSpan) {
  TempDir tmp("osrc-loadgen");
  ClusterHub hub(tmp);
  std::string keys = EnrolledKeys(tmp, hub, "keys.csv", 8, "LD");
  hub.Start();
  RunResult run = RunLoad(hub, keys, 2, "0", "60", {"--connect-over", "2"});
  ASSERT_TRUE(run.ok()) << run.Describe();
  nlohmann::json result = nlohmann::json::parse(LastLine(run.out));
  EXPECT_EQ(result.at("sites_connected"), 8);
  EXPECT_EQ(result.at("changes_acked"), 16);
  // The last site starts 1.75 s in; all at once, the eight are in step within a fraction of that.
  EXPECT_GE(result.at("connect_seconds").get<double>(), 1.75);

  RunResult negative = RunLoad(hub, keys, 2, "0", "60", {"--connect-over", "-1"});
  EXPECT_EQ(negative.exit_code, 2) << negative.Describe();
  EXPECT_TRUE(Contains(negative.err, "--connect-over")) << negative.err;
}

TEST(Loadgen, ASiteEnrolledWhileTheHubRunsGetsInAndARevokedOneDoesNot) {
  TempDir tmp("osrc-loadgen");
  ClusterHub hub(tmp);
  std::string first = EnrolledKeys(tmp, hub, "first.csv", 5, "LB");
  hub.Start();
  RunResult before = RunLoad(hub, first, 2, "0", "60");
  ASSERT_TRUE(before.ok()) << before.Describe();

  std::string later = EnrolledKeys(tmp, hub, "later.csv", 5, "LC");
  MustRun(BinArgs("osrc-hub", {"revoke", "--data", hub.dir(), "--site", "LC0003"}));
  RunResult after = RunLoad(hub, later, 2, "0", "6");
  EXPECT_EQ(after.exit_code, 1) << after.Describe();
  EXPECT_TRUE(Contains(after.err, "not every change was acknowledged in time")) << after.err;
  nlohmann::json result = nlohmann::json::parse(LastLine(after.out));
  EXPECT_EQ(result.at("sites_connected"), 4);
  EXPECT_EQ(result.at("changes_acked"), 8);
  EXPECT_TRUE(Contains(after.err, "LC0003: ")) << after.err;

  nlohmann::json status = nlohmann::json::parse(
      MustRun(BinArgs("osrc-hub", {"status", "--data", hub.dir(), "--json"})));
  EXPECT_EQ(SiteOf(status, "LC0001").at("acked"), 2);
  EXPECT_EQ(SiteOf(status, "LC0003").at("acked"), 0);
  EXPECT_EQ(SiteOf(status, "LB0005").at("acked"), 2);
}

TEST(Loadgen, AMalformedKeysFileIsNamedWithItsLine) {
  TempDir tmp("osrc-loadgen");
  std::string keys = MakeKeys(tmp, "keys.csv", 2, "LD");
  WriteFile(keys, ReadFile(keys) + "LD0003,not-a-key\n");
  RunResult run =
      testing::Run(BinArgs("osrc-loadgen", {"run", "--keys", keys, "--hub", "tcp://127.0.0.1:1",
                                            "--hub-key", std::string(40, 'a')}),
                   {}, seconds(30));
  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  EXPECT_TRUE(Contains(run.err, keys + ":3")) << run.err;
  EXPECT_TRUE(Contains(run.err, "site,public_key,secret_key")) << run.err;
}

}  // namespace
}  // namespace osrc::testing

// A full store, at the hub and at a site, with real processes.
//
// Hub: a store of 2 MiB that may not grow (hub.toml [store] map_size_mb = 2, grow_mb = 0) and a
// site pushing 20,000 records. The sync fails with a message naming the full store, the hub keeps
// running and serving (another site still syncs), and nothing is lost: what the hub acknowledged
// it holds, the rest stays pending at the site. With growth allowed (grow_mb = 8) and the hub
// restarted, the same sync completes and both sides hold identical records.
//
// Node: a store of 2 MiB that may not grow. Filled in small imports until `osrc-node status`
// warns that it is over 80% full; an import that does not fit then fails with an error naming
// the full store and writes nothing; with growth allowed the same import succeeds.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

using nlohmann::json;

TEST(DiskFull, HubStoreFullRefusesPushesKeepsRunningAndLosesNothing) {
  TempDir tmp("osrc-hub-full");
  ClusterHub hub(tmp);
  hub.SetConfig("map_size_mb", "2");
  hub.SetConfig("grow_mb", "0");
  ClusterNode mas(tmp, "MAS", hub);
  ClusterNode ant(tmp, "ANT", hub);
  constexpr uint64_t kTotal = 20'000;
  mas.Import(
      GenerateSample(tmp, "MAS", {"--participants", "10000", "--services-per", "1"}, "mas.jsonl"));
  ASSERT_EQ(mas.Status()["log_head"], kTotal);
  hub.Start();

  RunResult full = mas.Sync(60);
  EXPECT_EQ(full.exit_code, 1) << full.Describe();
  EXPECT_TRUE(Contains(full.err, "full")) << full.Describe();
  ASSERT_TRUE(hub.running()) << hub.daemon()->stderr_text();

  // Nothing lost: the site and the hub agree on what the hub holds; the rest is pending.
  json site = hub.SiteStatus("MAS");
  const uint64_t acked = site["acked"];
  EXPECT_LT(acked, kTotal);
  EXPECT_EQ(site["records"], acked) << site.dump();
  json status = mas.Status();
  EXPECT_EQ(status["acked"], acked) << status.dump();
  EXPECT_EQ(status["log_head"], kTotal);
  EXPECT_EQ(status["pending"], kTotal - acked);
  EXPECT_TRUE(Contains(status["last_error"].get<std::string>(), "full")) << status.dump();
  EXPECT_EQ(hub.Status()["store_warning"], true);
  std::vector<std::string> site_lines = SplitLines(mas.ExportOwn());
  EXPECT_EQ(site_lines.size(), kTotal);
  std::set<std::string> site_records(site_lines.begin(), site_lines.end());
  std::vector<std::string> hub_lines = SplitLines(hub.ExportSite("MAS"));
  EXPECT_EQ(hub_lines.size(), acked);
  for (const std::string& line : hub_lines) {
    ASSERT_TRUE(site_records.contains(line)) << "hub holds what the site does not: " << line;
  }

  // A retry fails the same way (a new sync starts with small pushes, so one may still fit) and
  // the hub stays whole; it still serves other sites.
  RunResult again = mas.Sync(60);
  EXPECT_EQ(again.exit_code, 1) << again.Describe();
  EXPECT_TRUE(Contains(again.err, "full")) << again.Describe();
  site = hub.SiteStatus("MAS");
  EXPECT_GE(site["acked"].get<uint64_t>(), acked);
  EXPECT_EQ(site["records"], site["acked"]) << site.dump();
  EXPECT_EQ(mas.Status()["acked"], site["acked"]);
  RunResult other = ant.Sync();
  EXPECT_TRUE(other.ok()) << other.Describe();
  ASSERT_TRUE(hub.running()) << hub.daemon()->stderr_text();
  EXPECT_TRUE(Contains(hub.daemon()->stderr_text(), "full")) << hub.daemon()->stderr_text();

  // Room to grow, a restart, and the same sync completes.
  hub.Stop();
  hub.SetConfig("grow_mb", "8");
  hub.Start();
  RunResult done = mas.Sync(60);
  ASSERT_TRUE(done.ok()) << done.Describe();
  ExpectConverged(hub, mas);
  EXPECT_EQ(hub.SiteStatus("MAS")["records"], kTotal);
  EXPECT_GT(hub.Status()["store_map_bytes"].get<uint64_t>(), uint64_t{2} << 20);
  hub.Stop();
}

TEST(DiskFull, NodeStoreWarnsOver80PercentAndRefusesAnImportThatDoesNotFit) {
  TempDir tmp("osrc-node-full");
  ClusterHub hub(tmp);  // not started: only gives the node a hub to name
  ClusterNode mas(tmp, "MAS", hub);
  mas.SetConfig("map_size_mb", "2");
  mas.SetConfig("grow_mb", "0");

  // Small imports (80 records, a few percent of the store each) until the status warns.
  constexpr int kBatch = 40;
  int start = 1;
  json status = mas.Status();
  EXPECT_EQ(status["store_warning"], false) << status.dump();
  for (int i = 0; i < 40 && !status["store_warning"].get<bool>(); ++i, start += kBatch) {
    std::string file = GenerateSample(tmp, "MAS",
                                      {"--participants", std::to_string(kBatch), "--start",
                                       std::to_string(start), "--services-per", "1"},
                                      "batch-" + std::to_string(i) + ".jsonl");
    RunResult imported = mas.Run({"import", file});
    ASSERT_TRUE(imported.ok()) << "the store filled up before any warning: " << imported.Describe()
                               << "\n"
                               << status.dump();
    status = mas.Status();
  }
  ASSERT_EQ(status["store_warning"], true) << status.dump();
  EXPECT_LE(status["store_map_bytes"].get<uint64_t>(), uint64_t{2} << 20);
  std::string text = mas.Cli({"status"});
  EXPECT_TRUE(Contains(text, "over 80%")) << text;

  // An import that does not fit: refused, nothing written.
  const std::string export_before = mas.Export();
  const uint64_t head_before = status["log_head"];
  std::string big = GenerateSample(
      tmp, "MAS", {"--participants", "2000", "--start", "50001", "--services-per", "1"},
      "big.jsonl");
  RunResult refused = mas.Run({"import", big});
  EXPECT_EQ(refused.exit_code, 1) << refused.Describe();
  EXPECT_TRUE(Contains(refused.err, "full")) << refused.Describe();
  EXPECT_EQ(mas.Status()["log_head"], head_before);
  EXPECT_TRUE(
      SameExport("exports before and after the refused import", mas.Export(), export_before));
  EXPECT_NE(mas.Run({"get", "participants", "MAS-P0050001"}).exit_code, 0);

  // Allowed to grow, the same import succeeds.
  mas.SetConfig("grow_mb", "8");
  RunResult grown = mas.Run({"import", big});
  ASSERT_TRUE(grown.ok()) << grown.Describe();
  status = mas.Status();
  EXPECT_EQ(status["log_head"], head_before + 4000);
  EXPECT_GT(status["store_map_bytes"].get<uint64_t>(), uint64_t{2} << 20);
  EXPECT_TRUE(mas.Run({"get", "participants", "MAS-P0050001"}).ok());
}

}  // namespace
}  // namespace osrc::testing

// Backup and restore of the hub with real processes: `osrc-hub backup --to DIR` while the daemon
// runs, more writes synced after it, then `osrc-hub restore --data H --from DIR` (refused while
// the daemon runs). The restored hub runs under a new epoch; at their next sync the sites notice
// it, re-offer what the backup lacks and re-read their deliveries, so the hub ends up with
// everything the sites wrote.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

using nlohmann::json;

std::string Field(const std::string& record_line, const std::string& field) {
  json record = json::parse(record_line);
  return record["fields"].contains(field) ? record["fields"][field].dump() : "(unset)";
}

TEST(HubRestore, BackupWhileRunningThenRestoreUnderNewEpochAndSitesReoffer) {
  TempDir tmp("osrc-restore");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  ClusterNode ant(tmp, "ANT", hub);
  std::string countries = tmp.Path("countries.jsonl");
  WriteFile(countries, R"({"collection":"countries","id":"XK","fields":{"name":"Kosovo"}})"
                       "\n");
  hub.Cli({"ref", "import", "countries", countries});
  mas.Import(
      GenerateSample(tmp, "MAS", {"--participants", "200", "--services-per", "2"}, "mas-1.jsonl"));
  ant.Import(GenerateSample(tmp, "ANT", {"--participants", "50"}, "ant.jsonl"));
  hub.Start();
  mas.MustSync();
  ant.MustSync();
  const std::string old_epoch = hub.Status()["epoch"];
  ASSERT_FALSE(old_epoch.empty());
  EXPECT_EQ(mas.Status()["epoch"], old_epoch);

  // A consistent copy while the daemon runs.
  const std::string backup = tmp.Path("backup");
  hub.Cli({"backup", "--to", backup});
  for (const char* name : {"data.mdb", "hub.toml", "hub.key", "hub.pub"}) {
    EXPECT_TRUE(std::filesystem::exists(backup + "/" + name)) << name;
  }
  ASSERT_TRUE(hub.running());
  const uint64_t acked_at_backup = hub.SiteStatus("MAS")["acked"];
  EXPECT_EQ(acked_at_backup, 600u);

  // The site goes on: new records, edits of old ones, a delete; all synced to the running hub.
  mas.Import(GenerateSample(tmp, "MAS",
                            {"--participants", "100", "--start", "201", "--services-per", "1"},
                            "mas-2.jsonl"));
  mas.Put("participants", "MAS-P0000001", R"({"occupation":"edited after the backup"})");
  mas.Put("services", "MAS-S0000002", R"({"notes":"edited after the backup"})");
  mas.Delete("participants", "MAS-P0000003", /*cascade=*/true);  // and its service
  mas.MustSync();
  ExpectConverged(hub, mas);
  const uint64_t head = mas.Status()["log_head"];
  ASSERT_GT(head, acked_at_backup);

  // Refused while the daemon runs, and nothing changes.
  RunResult refused = hub.Run({"restore", "--from", backup});
  EXPECT_EQ(refused.exit_code, 1) << refused.Describe();
  EXPECT_TRUE(Contains(refused.err, "running")) << refused.Describe();
  EXPECT_TRUE(hub.running());
  EXPECT_EQ(hub.Status()["epoch"], old_epoch);
  EXPECT_EQ(hub.SiteStatus("MAS")["acked"], head);
  mas.MustSync();

  // Not a backup: refused.
  RunResult not_backup = hub.Run({"restore", "--from", tmp.Path("node-MAS")});
  EXPECT_EQ(not_backup.exit_code, 1) << not_backup.Describe();

  hub.Stop();
  RunResult restored = hub.Run({"restore", "--from", backup});
  ASSERT_TRUE(restored.ok()) << restored.Describe();
  EXPECT_TRUE(Contains(restored.out, "new epoch")) << restored.Describe();
  json status = hub.Status();
  const std::string new_epoch = status["epoch"];
  EXPECT_NE(new_epoch, old_epoch);
  EXPECT_EQ(hub.SiteStatus("MAS")["acked"], acked_at_backup) << "not the backup's state";
  EXPECT_NE(Field(hub.Cli({"get", "participants", "MAS-P0000001"}), "occupation"),
            "\"edited after the backup\"")
      << "not the backup's state";

  hub.Start();
  RunResult resync = mas.Sync();
  ASSERT_TRUE(resync.ok()) << resync.Describe();
  ant.MustSync();

  // The site saw the new epoch and re-offered what the backup lacked.
  json mas_status = mas.Status();
  EXPECT_EQ(mas_status["epoch"], new_epoch);
  EXPECT_EQ(hub.Status()["epoch"], new_epoch);
  EXPECT_EQ(mas_status["log_head"], head);
  ExpectConverged(hub, mas);
  ExpectConverged(hub, ant);
  EXPECT_EQ(Field(hub.Cli({"get", "participants", "MAS-P0000001"}), "occupation"),
            "\"edited after the backup\"");
  EXPECT_NE(hub.Run({"get", "participants", "MAS-P0000003"}).exit_code, 0)
      << "the delete after the backup was not re-offered";
  // Deliveries were re-read under the new epoch: reference data still in step.
  EXPECT_EQ(mas.Get("countries", "XK"), hub.Cli({"get", "countries", "XK"}));
  EXPECT_EQ(mas_status["reference_version"], hub.Status()["log_head"]);

  // The restored hub keeps working normally.
  mas.Put("participants", "MAS-P0000002", R"({"occupation":"after the restore"})");
  mas.MustSync();
  ExpectConverged(hub, mas);
  hub.Stop();
}

// The hub's own writes made after the backup (a correction to a site's record, a reference
// record) were delivered before the restore: the restored hub lacks them, the sites hold them.
// At their next contact the sites hand them back with the hub's seals; the hub takes them back
// and delivers them on, so every replica ends in step, including a site that never saw them.
TEST(HubRestore, HubWritesDeliveredAfterTheBackupAreHandedBackByTheSites) {
  TempDir tmp("osrc-restore-correction");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  ClusterNode ant(tmp, "ANT", hub);
  mas.Import(GenerateSample(tmp, "MAS", {"--participants", "20"}, "mas.jsonl"));
  hub.Start();
  mas.MustSync();
  ant.MustSync();
  const std::string backup = tmp.Path("backup");
  hub.Cli({"backup", "--to", backup});
  hub.Cli({"put", "participants", "MAS-P0000001", "--json",
           R"({"occupation":"corrected after the backup"})"});
  hub.Cli({"put", "agencies", "NEW-AGENCY", "--json", R"({"name":"Added after the backup"})"});
  mas.MustSync();
  ASSERT_EQ(Field(mas.Get("participants", "MAS-P0000001"), "occupation"),
            "\"corrected after the backup\"");
  ASSERT_TRUE(Contains(mas.Get("agencies", "NEW-AGENCY"), "Added after the backup"));
  hub.Stop();
  hub.Cli({"restore", "--from", backup});
  hub.Start();
  ASSERT_NE(hub.Run({"get", "agencies", "NEW-AGENCY"}).exit_code, 0) << "the backup holds it?";
  EXPECT_EQ(mas.Status()["owed_to_hub"], 0);

  mas.MustSync();
  EXPECT_EQ(mas.Status()["owed_to_hub"], 0) << "all handed back";
  EXPECT_TRUE(SameExport("exports of MAS (site, hub)", mas.ExportOwn(), hub.ExportSite("MAS")));
  EXPECT_EQ(Field(hub.Cli({"get", "participants", "MAS-P0000001"}), "occupation"),
            "\"corrected after the backup\"");
  EXPECT_EQ(hub.Cli({"get", "agencies", "NEW-AGENCY"}), mas.Get("agencies", "NEW-AGENCY"));
  EXPECT_TRUE(Contains(ReadFile(hub.Path("hub.log")), "took back"));
  // ANT synced before the correction and the new agency; it gets the agency from the hub.
  ant.MustSync();
  EXPECT_EQ(ant.Get("agencies", "NEW-AGENCY"), mas.Get("agencies", "NEW-AGENCY"));
  ExpectConverged(hub, mas);
  ExpectConverged(hub, ant);
  // Handing back happens once: a later sync sends nothing more and changes nothing.
  const uint64_t head = hub.Status()["log_head"].get<uint64_t>();
  mas.MustSync();
  EXPECT_EQ(hub.Status()["log_head"], head);
  hub.Stop();
}

// The same for a site that syncs only by USB bundles: the reply that tells it of the restore
// makes it owe the hub's changes, its next bundle hands them back, and the reply to that one
// acknowledges them.
TEST(HubRestore, ASiteOnBundlesHandsBackTheHubWritesToo) {
  TempDir tmp("osrc-restore-bundles");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  mas.Import(GenerateSample(tmp, "MAS", {"--participants", "10"}, "mas.jsonl"));
  int round = 0;
  auto round_trip = [&] {
    std::string bundle = tmp.Path("mas-" + std::to_string(++round) + ".bundle");
    std::string reply = bundle + ".reply";
    std::string exported = mas.Cli({"bundle", "export", bundle});
    std::string imported = hub.Cli({"bundle", "import", bundle, "--reply", reply});
    mas.Cli({"bundle", "import", reply});
    return exported + imported;
  };
  round_trip();
  const std::string backup = tmp.Path("backup");
  hub.Cli({"backup", "--to", backup});
  hub.Cli({"put", "participants", "MAS-P0000001", "--json",
           R"({"occupation":"corrected after the backup"})"});
  hub.Cli({"put", "agencies", "NEW-AGENCY", "--json", R"({"name":"Added after the backup"})"});
  round_trip();
  ASSERT_TRUE(Contains(mas.Get("agencies", "NEW-AGENCY"), "Added after the backup"));
  hub.Cli({"restore", "--from", backup});

  round_trip();  // learns of the new epoch
  EXPECT_GT(mas.Status()["owed_to_hub"].get<uint64_t>(), 0u);
  std::string handing_back = round_trip();
  EXPECT_TRUE(Contains(handing_back, "hands back")) << handing_back;
  EXPECT_TRUE(Contains(handing_back, "took back 2 hub changes")) << handing_back;
  EXPECT_EQ(mas.Status()["owed_to_hub"], 0);
  EXPECT_EQ(hub.Cli({"get", "agencies", "NEW-AGENCY"}), mas.Get("agencies", "NEW-AGENCY"));
  EXPECT_TRUE(SameExport("exports of MAS (site, hub)", mas.ExportOwn(), hub.ExportSite("MAS")));
  // Nothing more is handed back.
  std::string after = round_trip();
  EXPECT_FALSE(Contains(after, "hands back")) << after;
  EXPECT_EQ(mas.Status()["owed_to_hub"], 0);
}

}  // namespace
}  // namespace osrc::testing

// osrc-hub retention with real processes: a site's old and recent records synced to a running
// hub; --dry-run lists what the [retention] periods no longer keep and changes nothing; --apply
// erases it at the hub beside the daemon, the erasure orders reach the site, recent records
// stay, the run is audited, and a second --apply finds nothing.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/cluster.h"

namespace osrc::testing {
namespace {

TEST(Retention, DryRunListsAndApplyErasesAtTheHubAndTheSite) {
  TempDir tmp("osrc-retention");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  WriteFile(hub.Path("hub.toml"),
            ReadFile(hub.Path("hub.toml")) + "participants = \"10y\"\nservices = \"5y\"\n");
  hub.Start();
  // MAS-P1: last seen 2011. MAS-P2: registered 2010, a service in 2012 and one in 2024.
  mas.Put("participants", "MAS-P1",
          R"({"site":"MAS","family_name":"Oldfamily","given_name":"Oldgiven","consent":true,)"
          R"("registered_at":"2010-01-05T08:00:00Z","birth_date":"1970-01-01"})");
  mas.Put("participants", "MAS-P2",
          R"({"site":"MAS","family_name":"Keptfamily","given_name":"Keptgiven","consent":true,)"
          R"("registered_at":"2010-01-05T08:00:00Z"})");
  mas.Put("services", "MAS-S1",
          R"({"participant_id":"MAS-P1","service_type":"reintegration_advice","date":"2011-03-01",)"
          R"("notes":"Zqoldnote"})");
  mas.Put(
      "services", "MAS-S2",
      R"({"participant_id":"MAS-P2","service_type":"reintegration_advice","date":"2012-03-01"})");
  mas.Put(
      "services", "MAS-S3",
      R"({"participant_id":"MAS-P2","service_type":"reintegration_advice","date":"2024-06-01"})");
  mas.MustSync();

  std::string dry = hub.Cli({"retention", "--dry-run", "--as-of", "2026-12-04"});
  EXPECT_TRUE(Contains(dry, "participants/MAS-P1  last activity 2011-03-01  (participants 10y)"))
      << dry;
  EXPECT_TRUE(Contains(dry, "services/MAS-S1  last activity 2011-03-01  (services 5y)")) << dry;
  EXPECT_FALSE(Contains(dry, "MAS-S2")) << "kept by MAS-P2's 2024 service:\n" << dry;
  EXPECT_TRUE(Contains(dry, "2 records due; erasing them would erase 2 records")) << dry;
  EXPECT_TRUE(Contains(hub.Cli({"get", "participants", "MAS-P1"}), "Oldfamily"));
  EXPECT_EQ(hub.Cli({"audit"}).find("retention"), std::string::npos);

  std::string applied = hub.Cli({"retention", "--apply", "--as-of", "2026-12-04"});
  EXPECT_TRUE(Contains(applied, "erased 2 records (1 participants, 1 services)")) << applied;
  EXPECT_EQ(hub.Run({"get", "participants", "MAS-P1"}).exit_code, 1);
  mas.MustSync();
  EXPECT_EQ(mas.Run({"get", "participants", "MAS-P1"}).exit_code, 1);
  EXPECT_EQ(mas.Run({"get", "services", "MAS-S1"}).exit_code, 1);
  for (const char* kept : {"MAS-S2", "MAS-S3"}) {
    EXPECT_TRUE(Contains(mas.Get("services", kept), "MAS-P2")) << kept;
  }
  EXPECT_TRUE(Contains(mas.Get("participants", "MAS-P2"), "Keptfamily"));
  EXPECT_TRUE(Contains(mas.Cli({"status"}), "erased by hub   2 records"));
  std::string audit = hub.Cli({"audit"});
  EXPECT_TRUE(Contains(audit, "retention  2 records (1 participants, 1 services)")) << audit;
  EXPECT_TRUE(Contains(hub.Cli({"audit", "verify"}), "intact"));

  std::string again = hub.Cli({"retention", "--apply", "--as-of", "2026-12-04"});
  EXPECT_TRUE(Contains(again, "nothing to erase")) << again;
  // Four years on, MAS-P2's services are over five years from its last activity; MAS-P2 is not.
  std::string later = hub.Cli({"retention", "--dry-run", "--as-of", "2030-12-04", "--json"});
  EXPECT_TRUE(Contains(
      later,
      R"({"collection":"services","id":"MAS-S3","last_activity":"2024-06-01","rule":"services 5y"})"))
      << later;
  EXPECT_FALSE(Contains(later, "participants")) << later;
}

TEST(Retention, NeedsExactlyOneModeAndAKnownPeriod) {
  TempDir tmp("osrc-retention-usage");
  ClusterHub hub(tmp);
  EXPECT_EQ(hub.Run({"retention"}).exit_code, 2);
  EXPECT_EQ(hub.Run({"retention", "--dry-run", "--apply"}).exit_code, 2);
  EXPECT_TRUE(Contains(hub.Cli({"retention", "--dry-run"}), "every record is kept"));
  WriteFile(hub.Path("hub.toml"), ReadFile(hub.Path("hub.toml")) + "services = \"5 years\"\n");
  RunResult bad = hub.Run({"retention", "--dry-run"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(Contains(bad.err, "[retention] services: must be a period")) << bad.err;
}

}  // namespace
}  // namespace osrc::testing

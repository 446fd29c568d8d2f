// Tests of the hub's audit trail through the real binary: each export, report, correction and
// reference import leaves an entry naming who, what and when; `audit verify` checks the chain and
// names the entry altered; a backup carries the trail and a restore does not roll it back.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

std::vector<std::string> Actions(const ClusterHub& hub) {
  std::vector<std::string> actions;
  for (const std::string& line : SplitLines(hub.Cli({"audit", "--json"}))) {
    nlohmann::json entry = nlohmann::json::parse(line);
    actions.push_back(entry.at("action").get<std::string>() + " " +
                      entry.at("target").get<std::string>());
    EXPECT_TRUE(entry.at("actor").get<std::string>().starts_with("cli:"));
  }
  return actions;
}

TEST(AuditCli, EveryReadOutAndChangeLeavesAChainedEntry) {
  TempDir tmp("osrc-audit-cli");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);  // enrol
  hub.Cli({"export", "--site", "MAS"});
  hub.Cli({"report", "participants", "--by", "sex"});
  hub.Cli({"put", "countries", "QA", "--json", R"({"name":"Qatar"})"});
  WriteFile(tmp.Path("courses.jsonl"),
            R"({"collection":"courses","id":"fls2","fields":{"name":"Financial literacy 2"}})"
            "\n");
  hub.Cli({"ref", "import", "courses", tmp.Path("courses.jsonl")});
  hub.Cli({"backup", "--to", tmp.Path("backup")});
  std::vector<std::string> expected = {"enrol site MAS",
                                       "export site MAS, all collections",
                                       "report participants by sex, k 5",
                                       "correction countries/QA",
                                       "reference import courses from " + tmp.Path("courses.jsonl"),
                                       "backup to " + tmp.Path("backup")};
  EXPECT_EQ(Actions(hub), expected);
  EXPECT_EQ(hub.Cli({"audit", "verify"}), "audit trail intact: 6 entries chained\n");
  // The backup holds the trail up to the backup itself.
  EXPECT_EQ(SplitLines(ReadFile(tmp.Path("backup/audit.log"))).size(), 5u);

  std::string log = ReadFile(hub.Path("audit.log"));
  size_t at = log.find("by sex", log.find("\"target\":\"participants"));
  log.replace(at, 6, "by age");
  WriteFile(hub.Path("audit.log"), log);
  RunResult altered = hub.Run({"audit", "verify"});
  EXPECT_EQ(altered.exit_code, 1);
  EXPECT_TRUE(Contains(altered.err, "audit.log:3 (entry 3): altered")) << altered.err;
}

TEST(AuditCli, ARestoreKeepsTheTrailAndRecordsItself) {
  TempDir tmp("osrc-audit-restore");
  ClusterHub hub(tmp);
  hub.Cli({"backup", "--to", tmp.Path("backup")});
  hub.Cli({"export"});
  RunResult restored = hub.Run({"restore", "--from", tmp.Path("backup")});
  ASSERT_TRUE(restored.ok()) << restored.Describe();
  EXPECT_EQ(Actions(hub), (std::vector<std::string>{"backup to " + tmp.Path("backup"),
                                                    "export all sites, all collections",
                                                    "restore from " + tmp.Path("backup")}));
  EXPECT_TRUE(hub.Run({"audit", "verify"}).ok());
}

}  // namespace
}  // namespace osrc::testing

// Tests of the hub's everyday administration through the real binaries: status shows which sites
// are online now, each session ends with one log line, re-enrolling a site takes --replace and
// ends the old key's session, and central writes refuse sites the hub does not know.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

bool Online(const ClusterHub& hub, const std::string& site) {
  return hub.SiteStatus(site).at("online").get<bool>();
}

// The status text's line of `site`.
std::string StatusLine(const ClusterHub& hub, const std::string& site) {
  for (const std::string& line : SplitLines(hub.Cli({"status"}))) {
    if (line.starts_with(site + " ")) return line;
  }
  return {};
}

TEST(HubAdmin, StatusShowsWhichSitesAreOnlineNow) {
  TempDir tmp("osrc-hub-online");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  ClusterNode ant(tmp, "ANT", hub);
  ClusterNode ads(tmp, "ADS", hub);
  hub.Start();
  mas.Start();
  ant.MustSync();
  ASSERT_TRUE(PollUntil(DeadlineIn(std::chrono::seconds(30)), [&] { return Online(hub, "MAS"); }));
  EXPECT_FALSE(Online(hub, "ANT"));
  EXPECT_TRUE(Contains(StatusLine(hub, "MAS"), " online   now ")) << StatusLine(hub, "MAS");
  EXPECT_TRUE(Contains(StatusLine(hub, "ANT"), " offline  ")) << StatusLine(hub, "ANT");
  EXPECT_TRUE(Contains(StatusLine(hub, "ANT"), "s ago")) << StatusLine(hub, "ANT");
  EXPECT_TRUE(Contains(StatusLine(hub, "ADS"), " offline  never ")) << StatusLine(hub, "ADS");

  mas.Stop();
  ASSERT_TRUE(PollUntil(DeadlineIn(std::chrono::seconds(30)), [&] { return !Online(hub, "MAS"); }));
  mas.Start();
  ASSERT_TRUE(PollUntil(DeadlineIn(std::chrono::seconds(30)), [&] { return Online(hub, "MAS"); }));
  // A killed hub leaves no site online, whatever its last record said.
  hub.Crash();
  EXPECT_FALSE(Online(hub, "MAS"));
  EXPECT_TRUE(Contains(hub.Cli({"status"}), "daemon not running"));
  mas.Stop();
}

TEST(HubAdmin, EachSessionEndsWithOneLogLineOfWhatItCarried) {
  TempDir tmp("osrc-hub-session-log");
  ClusterHub hub(tmp);
  ClusterNode ant(tmp, "ANT", hub);
  hub.Start();
  ant.Import(GenerateSample(tmp, "ANT", {"--participants", "20"}, "ant.jsonl"));
  size_t records = SplitLines(ant.ExportOwn()).size();
  ant.MustSync();
  std::optional<std::string> line =
      hub.daemon()->WaitForOutputLine("site ANT: session ended (site said bye)",
                                      DeadlineIn(std::chrono::seconds(30)), Stream::kStderr);
  ASSERT_TRUE(line.has_value()) << hub.daemon()->stderr_text();
  EXPECT_TRUE(Contains(*line, "received " + std::to_string(records) + " changes in ")) << *line;
  EXPECT_TRUE(Contains(*line, "delivered ")) << *line;
  EXPECT_TRUE(Contains(*line, " B")) << *line;
  EXPECT_TRUE(Contains(*line, "[info]")) << *line;
  // Never a field value: the sample's names stay out of the log.
  std::string first_name = ant.Get("participants", "ANT-P0000001");
  size_t at = first_name.find("\"family_name\":\"") + 15;
  std::string family = first_name.substr(at, first_name.find('"', at) - at);
  EXPECT_FALSE(Contains(hub.daemon()->stderr_text(), family)) << family;
  hub.Stop();
}

TEST(HubAdmin, ReenrolmentNeedsReplaceAndEndsTheOldKeysSession) {
  TempDir tmp("osrc-hub-replace");
  ClusterHub hub(tmp);
  ClusterNode old_mas(tmp, "MAS", hub);
  ClusterNode::Options unenrolled;
  unenrolled.enrol = false;
  unenrolled.folder = "mas-new";
  ClusterNode new_mas(tmp, "MAS", hub, unenrolled);
  hub.Start();
  old_mas.Start();
  ASSERT_TRUE(PollUntil(DeadlineIn(std::chrono::seconds(30)), [&] { return Online(hub, "MAS"); }));

  RunResult without = hub.Run({"enrol", "--site", "MAS", "--key", new_mas.key()});
  EXPECT_EQ(without.exit_code, 1);
  EXPECT_TRUE(Contains(without.err, "site MAS is enrolled with another key")) << without.err;
  EXPECT_TRUE(Contains(without.err, "add --replace")) << without.err;
  RunResult own = hub.Run({"enrol", "--site", "ADS", "--key", hub.key()});
  EXPECT_EQ(own.exit_code, 1);
  EXPECT_TRUE(Contains(own.err, "--key: that is the hub's own public key")) << own.err;

  RunResult replaced = hub.Run({"enrol", "--site", "MAS", "--key", new_mas.key(), "--replace"});
  ASSERT_TRUE(replaced.ok()) << replaced.Describe();
  EXPECT_TRUE(Contains(replaced.out, "replaced the key of site MAS"));
  std::optional<std::string> ended =
      hub.daemon()->WaitForOutputLine("site MAS: session ended (key no longer enrolled)",
                                      DeadlineIn(std::chrono::seconds(30)), Stream::kStderr);
  EXPECT_TRUE(ended.has_value()) << hub.daemon()->stderr_text();
  new_mas.MustSync();
  EXPECT_EQ(old_mas.Sync(10).exit_code, 1);
  old_mas.Stop();
  hub.Stop();
}

TEST(HubAdmin, CentralWritesRefuseSitesThatAreNotEnrolled) {
  TempDir tmp("osrc-hub-unenrolled");
  ClusterHub hub(tmp);
  RunResult put = hub.Run({"put", "participants", "XYZ-P1", "--json", R"({"site":"XYZ"})"});
  EXPECT_EQ(put.exit_code, 1);
  EXPECT_TRUE(Contains(put.err, "participants/XYZ-P1: site \"XYZ\" is not enrolled at this hub"))
      << put.err;
  RunResult del = hub.Run({"delete", "participants", "XYZ-P1"});
  EXPECT_EQ(del.exit_code, 1);
  EXPECT_TRUE(Contains(del.err, "site \"XYZ\" is not enrolled")) << del.err;
  // Reference data belongs to no site.
  EXPECT_TRUE(hub.Run({"put", "countries", "QA", "--json", R"({"name":"Qatar"})"}).ok());
}

TEST(HubAdmin, AFileOfSitesIsEnrolledWholeOrNotAtAll) {
  TempDir tmp("osrc-hub-enrol-file");
  ClusterHub hub(tmp);
  std::vector<std::string> keys;
  std::string lines = "# site,public_key,secret_key\n";
  for (const char* site : {"S001", "S002", "S003"}) {
    RunResult init =
        RunProcess(BinArgs("osrc-node", {"init", "--data", tmp.Path(site), "--site", site}));
    ASSERT_TRUE(init.ok()) << init.Describe();
    keys.push_back(LastLine(init.out));
    lines += std::string(site) + "," + keys.back() + ",not-read\n";
  }
  WriteFile(tmp.Path("bad.csv"), lines + "S004," + keys[0] + "\n");
  RunResult shared = hub.Run({"enrol", "--file", tmp.Path("bad.csv")});
  EXPECT_EQ(shared.exit_code, 1);
  EXPECT_TRUE(Contains(shared.err, tmp.Path("bad.csv") + ":5: key given for both S001 and S004"))
      << shared.err;
  EXPECT_EQ(hub.Status().at("sites").size(), 0u);  // nothing of the file

  WriteFile(tmp.Path("sites.csv"), lines);
  EXPECT_EQ(hub.Cli({"enrol", "--file", tmp.Path("sites.csv")}),
            "enrolled 3 sites from " + tmp.Path("sites.csv") + "\n");
  EXPECT_EQ(hub.SiteStatus("S002").at("revoked"), false);
  RunResult both = hub.Run({"enrol", "--file", tmp.Path("sites.csv"), "--site", "S009"});
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_TRUE(Contains(both.err, "give --file, or --site and --key, not both")) << both.err;
}

TEST(HubAdmin, TheHubRaisesItsOpenFilesLimitAndSaysHowManySitesFit) {
  TempDir tmp("osrc-hub-nofile");
  std::string dir = tmp.Path("hub");
  MustRun(BinArgs("osrc-hub", {"init", "--data", dir, "--bind", "tcp://127.0.0.1:*"}));
  Process hub({"prlimit", "--nofile=256:512", BinPath("osrc-hub"), "run", "--data", dir,
               "--console", "off"});
  std::optional<std::string> line = hub.WaitForOutputLine(
      "open files limit", DeadlineIn(std::chrono::seconds(30)), Stream::kStderr);
  ASSERT_TRUE(line.has_value()) << hub.stderr_text();
  EXPECT_TRUE(Contains(*line,
                       "open files limit 512 (raised from 256): room for about 448 "
                       "connected sites"))
      << *line;
  StopProcess(hub, "osrc-hub run");
}

}  // namespace
}  // namespace osrc::testing

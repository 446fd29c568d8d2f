// A site whose PC clock is years off: three years ahead, and three years behind. Every osrc-node
// command of that site runs with OSRC_CLOCK_SKEW_MS set, which shifts the node's clock. The site
// must still converge with the hub; the hub warns about it in hub.log (naming the site and
// "ahead"/"behind") and both status reports show the skew. The site's stamps are corrected:
//  - its concurrent edit and the hub's conflicting edit of the same field are kept with stamps
//    within minutes of real time (`osrc-hub conflicts --json`), not years off, and never more
//    than max_skew_ms ahead of the hub clock;
//  - a central correction (`osrc-hub put`) of a record the site wrote wins at the hub and at the
//    site (with uncorrected stamps three years ahead the site's older write would win);
//  - a later edit by the site of the corrected field wins in turn (with uncorrected stamps three
//    years behind it would lose).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr int64_t kThreeYearsMs = 94'608'000'000;  // 3 x 365 days
// Tolerance on measured skews and stamps: process start-up and scheduling on a loaded machine.
constexpr int64_t kToleranceMs = 60'000;

struct SkewCase {
  const char* name;
  int64_t skew_ms;
  const char* word;  // in the hub's warning
};

int64_t WallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Occupation(const std::string& record_line) {
  json record = json::parse(record_line);
  return record["fields"].value("occupation", "(unset)");
}

// Both sides report the skew: the hub as site clock minus hub clock, the node as the offset to
// add to its clock (hub minus site).
void ExpectSkewReported(const ClusterHub& hub, const ClusterNode& node, int64_t skew_ms) {
  json site = hub.SiteStatus(node.site());
  EXPECT_NEAR(static_cast<double>(site["clock_skew_ms"].get<int64_t>()),
              static_cast<double>(skew_ms), kToleranceMs)
      << site.dump();
  json status = node.Status();
  EXPECT_NEAR(static_cast<double>(status["clock_offset_ms"].get<int64_t>()),
              static_cast<double>(-skew_ms), kToleranceMs)
      << status.dump();
}

class ClockSkew : public ::testing::TestWithParam<SkewCase> {};

TEST_P(ClockSkew, SkewedSiteConvergesIsReportedAndItsStampsAreCorrected) {
  const SkewCase& skew = GetParam();
  TempDir tmp("osrc-clock");
  ClusterHub hub(tmp);
  ClusterNode::Options options;
  options.env = {{"OSRC_CLOCK_SKEW_MS", std::to_string(skew.skew_ms)}};
  ClusterNode mas(tmp, "MAS", hub, options);
  const uint64_t max_skew_ms = std::stoull(TomlValue(hub.Path("hub.toml"), "max_skew_ms"));
  const int64_t start_ms = WallMillis();

  mas.Import(
      GenerateSample(tmp, "MAS", {"--participants", "100", "--services-per", "2"}, "mas.jsonl"));
  // Reference data to deliver in the same session.
  std::string countries = tmp.Path("countries.jsonl");
  WriteFile(countries, R"({"collection":"countries","id":"XK","fields":{"name":"Kosovo"}})"
                       "\n");
  hub.Cli({"ref", "import", "countries", countries});
  hub.Start();
  RunResult first = mas.Sync();
  ASSERT_TRUE(first.ok()) << first.Describe();
  ExpectConverged(hub, mas);

  // The hub warns, naming the site and the direction.
  std::string warning;
  EXPECT_TRUE(PollUntil(DeadlineIn(seconds(10)),
                        [&] {
                          for (const std::string& line :
                               SplitLines(ReadFile(hub.Path("hub.log")))) {
                            if (Contains(line, "MAS") && Contains(line, skew.word)) {
                              warning = line;
                              return true;
                            }
                          }
                          return false;
                        }))
      << "no warning naming MAS and \"" << skew.word << "\" in hub.log:\n"
      << ReadFile(hub.Path("hub.log"));
  ExpectSkewReported(hub, mas, skew.skew_ms);
  EXPECT_EQ(mas.Get("countries", "XK"), hub.Cli({"get", "countries", "XK"}));

  // Concurrent edits of one field: whichever wins, both stamps are near real time.
  hub.Cli({"put", "participants", "MAS-P0000001", "--json", R"({"occupation":"hub concurrent"})"});
  mas.Put("participants", "MAS-P0000001", R"({"occupation":"site concurrent"})");
  mas.MustSync();  // in step: the site's edit pushed, the hub's delivered
  ExpectConverged(hub, mas);
  EXPECT_EQ(mas.Get("participants", "MAS-P0000001"),
            hub.Cli({"get", "participants", "MAS-P0000001"}));
  const int64_t now_ms = WallMillis();
  std::vector<std::string> conflicts = SplitLines(hub.Cli({"conflicts", "--json"}));
  ASSERT_EQ(conflicts.size(), 1u) << hub.Cli({"conflicts"});
  json conflict = json::parse(conflicts[0]);
  EXPECT_EQ(conflict["id"], "MAS-P0000001");
  EXPECT_EQ(conflict["field"], "occupation");
  for (const char* side : {"winner", "loser"}) {
    const uint64_t stamp = conflict[side]["stamp"];
    const int64_t millis = static_cast<int64_t>(stamp >> 16);
    EXPECT_LE(millis, now_ms + static_cast<int64_t>(max_skew_ms))
        << side << " stamp more than max_skew_ms ahead: " << conflict.dump();
    EXPECT_GE(millis, start_ms - kToleranceMs) << side << " stamp far behind: " << conflict.dump();
    EXPECT_LE(millis, now_ms + kToleranceMs) << side << " stamp far ahead: " << conflict.dump();
  }

  // A central correction of a record the site wrote wins at the hub and at the site.
  hub.Cli({"put", "participants", "MAS-P0000002", "--json", R"({"occupation":"hub correction"})"});
  EXPECT_EQ(Occupation(hub.Cli({"get", "participants", "MAS-P0000002"})), "hub correction");
  mas.MustSync();
  EXPECT_EQ(Occupation(mas.Get("participants", "MAS-P0000002")), "hub correction");
  EXPECT_EQ(Occupation(hub.Cli({"get", "participants", "MAS-P0000002"})), "hub correction");

  // The site's later edit of the corrected field wins in turn.
  mas.Put("participants", "MAS-P0000002", R"({"occupation":"site after the correction"})");
  mas.MustSync();
  EXPECT_EQ(Occupation(hub.Cli({"get", "participants", "MAS-P0000002"})),
            "site after the correction");
  EXPECT_EQ(Occupation(mas.Get("participants", "MAS-P0000002")), "site after the correction");
  ExpectConverged(hub, mas);
  ExpectSkewReported(hub, mas, skew.skew_ms);  // still, after sessions with deliveries
  hub.Stop();
}

// A site welcomed in step pushes its next session's first changes with the Hello. If its clock
// has since jumped years ahead, the hub refuses those stamps; the same `osrc-node sync` connects
// again without pushing early, the Welcome re-stamps the change and the sync ends in step. The
// hub holds the change with a stamp near real time.
TEST(ClockJump, ASiteWhoseClockJumpsAheadAfterASyncIsCorrectedInTheSameSync) {
  TempDir tmp("osrc-clock");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  mas.Import(
      GenerateSample(tmp, "MAS", {"--participants", "20", "--services-per", "1"}, "mas.jsonl"));
  hub.Start();
  mas.MustSync();
  ExpectConverged(hub, mas);

  mas.SetEnv({{"OSRC_CLOCK_SKEW_MS", std::to_string(kThreeYearsMs)}});
  hub.Cli({"put", "participants", "MAS-P0000001", "--json", R"({"occupation":"hub first"})"});
  mas.Put("participants", "MAS-P0000001", R"({"occupation":"site after the jump"})");
  const int64_t before_ms = WallMillis();
  RunResult sync = mas.Sync();
  ASSERT_TRUE(sync.ok()) << sync.Describe();
  ExpectConverged(hub, mas);
  std::string log = ReadFile(mas.Path("node.log"));
  EXPECT_TRUE(Contains(log, "hub refused")) << "the early push was not refused:\n" << log;
  EXPECT_TRUE(Contains(log, "re-stamped 1 unacknowledged")) << log;
  std::vector<std::string> conflicts = SplitLines(hub.Cli({"conflicts", "--json"}));
  ASSERT_EQ(conflicts.size(), 1u) << hub.Cli({"conflicts"});
  json conflict = json::parse(conflicts[0]);
  for (const char* side : {"winner", "loser"}) {
    const int64_t millis = static_cast<int64_t>(conflict[side]["stamp"].get<uint64_t>() >> 16);
    EXPECT_GE(millis, before_ms - kToleranceMs) << side << ": " << conflict.dump();
    EXPECT_LE(millis, WallMillis() + kToleranceMs) << side << ": " << conflict.dump();
  }
}

INSTANTIATE_TEST_SUITE_P(YearsOff, ClockSkew,
                         ::testing::Values(SkewCase{"ThreeYearsAhead", kThreeYearsMs, "ahead"},
                                           SkewCase{"ThreeYearsBehind", -kThreeYearsMs, "behind"}),
                         [](const ::testing::TestParamInfo<SkewCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace osrc::testing

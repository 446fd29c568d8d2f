// Tests of `osrc-hub report` through the real binaries: the published counts agree with the
// hub's records, nothing from 1 to k-1 is published, the threshold comes from hub.toml or --k,
// and --k 1 output says it is not for publication.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

// CSV rows "site,country,count" as {"site/country": count text}.
std::map<std::string, std::string> Cells(const std::string& csv) {
  std::map<std::string, std::string> cells;
  std::vector<std::string> lines = SplitLines(csv);
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t last = lines[i].rfind(',');
    std::string key = lines[i].substr(0, last);
    std::replace(key.begin(), key.end(), ',', '/');
    cells[key] = lines[i].substr(last + 1);
  }
  return cells;
}

class ReportCli : public ::testing::Test {
 protected:
  ReportCli() : tmp_("osrc-report-cli"), hub_(tmp_) {}
  void SetUp() override {
    hub_.Start();
    for (const char* site : {"MAS", "ANT"}) {
      ClusterNode node(tmp_, site, hub_);
      node.Import(GenerateSample(tmp_, site, {"--participants", "60", "--seed", "11"},
                                 std::string(site) + ".jsonl"));
      node.MustSync();
    }
    // Counted independently from the hub's export.
    for (const std::string& line :
         SplitLines(hub_.Cli({"export", "--collection", "participants"}))) {
      nlohmann::json record = nlohmann::json::parse(line);
      std::string id = record["id"];
      std::string country = record["fields"].value("destination_country", "unknown");
      std::string site = id.substr(0, 3);
      for (const std::string& key : {site + "/" + country, site + "/Total", "Total/" + country,
                                     std::string("Total/Total")}) {
        ++expected_[key];
      }
    }
  }
  void TearDown() override { hub_.Stop(); }

  RunResult Report(std::initializer_list<std::string> extra) {
    std::vector<std::string> args = {
        BinPath("osrc-hub"),        "report", "participants", "--data",   hub_.dir(), "--by",
        "site,destination_country", "--to",   "2100-12-31",   "--format", "csv"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunProcess(args);
  }

  TempDir tmp_;
  ClusterHub hub_;
  std::map<std::string, uint64_t> expected_;
};

TEST_F(ReportCli, PublishedCountsMatchTheRecordsAndNoneIsBelowK) {
  RunResult run = Report({});
  ASSERT_TRUE(run.ok()) << run.Describe();
  std::map<std::string, std::string> cells = Cells(run.out);
  ASSERT_EQ(cells.at("Total/Total"), "120");
  size_t hidden = 0;
  for (const auto& [key, count] : cells) {
    if (count == "c") {
      ++hidden;
      continue;
    }
    uint64_t n = std::stoull(count);
    EXPECT_EQ(n, expected_[key]) << key;
    EXPECT_FALSE(n >= 1 && n < 5) << key << " published as " << n;
  }
  size_t small = 0;
  for (const auto& [key, n] : expected_) {
    if (n >= 1 && n < 5) {
      ++small;
      EXPECT_EQ(cells.at(key), "c") << key;
    }
  }
  EXPECT_GT(small, 0u) << "the sample has small cells to protect";
  EXPECT_GT(hidden, small) << "secondary suppression protects them";
}

TEST_F(ReportCli, ThresholdFromHubTomlOrKAndKOneIsNotForPublication) {
  RunResult two = Report({"--k", "2"});
  EXPECT_EQ(two.exit_code, 1);
  EXPECT_TRUE(Contains(two.err, "--k 2: must be 3 or more, or 1")) << two.err;

  RunResult raw = Report({"--k", "1"});
  ASSERT_TRUE(raw.ok()) << raw.Describe();
  EXPECT_TRUE(raw.out.starts_with("# NOT FOR PUBLICATION")) << raw.out;
  std::map<std::string, std::string> cells = Cells(raw.out.substr(raw.out.find('\n') + 1));
  for (const auto& [key, n] : expected_) EXPECT_EQ(cells.at(key), std::to_string(n)) << key;

  hub_.SetConfig("k", "50");  // [report] k
  std::map<std::string, std::string> strict = Cells(Report({}).out);
  for (const auto& [key, n] : expected_) {
    if (n >= 1 && n < 50) {
      EXPECT_EQ(strict.at(key), "c") << key;
    }
  }
  hub_.SetConfig("k", "2");
  RunResult low = Report({});
  EXPECT_EQ(low.exit_code, 1);
  EXPECT_TRUE(Contains(low.err, "hub.toml: [report]: k: must be an integer from 3 to 1000"))
      << low.err;
}

}  // namespace
}  // namespace osrc::testing

// Replays the hub_inbound fuzz corpus (fuzz/corpus/hub_inbound, checked-in seeds) and every crash
// the fuzzer ever found (fuzz/crashes/hub_inbound) through hub::DecodeInbound in the normal build:
// each file must come back accepted or refused, keeping the promises of
// fuzz/hub_inbound_target.h, and the seeds named valid_* / bad_* must be accepted / refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz/hub_inbound_target.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::fuzz {
namespace {

namespace fs = std::filesystem;

// The regular files of `relative` (in the source tree), sorted; none if it does not exist.
std::vector<fs::path> FilesIn(const std::string& relative) {
  std::vector<fs::path> files;
  fs::path dir = testing::SourcePath(relative);
  if (!fs::is_directory(dir)) return files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().filename().string()[0] != '.') {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

struct Outcome {
  Status status;
  std::string broken;  // a broken promise; empty if none
};

Outcome Replay(const fs::path& file) {
  std::string bytes = testing::ReadFile(file.string());
  Outcome outcome;
  hub::Inbound inbound;
  outcome.broken = CheckHubInbound({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                                   &outcome.status, &inbound);
  return outcome;
}

TEST(HubInboundCorpusTest, SeedCorpusIsNotEmpty) {
  std::vector<fs::path> seeds = FilesIn("fuzz/corpus/hub_inbound");
  EXPECT_GE(seeds.size(), 10u) << "no seeds in " << testing::SourcePath("fuzz/corpus/hub_inbound");
  size_t valid = 0, bad = 0;
  for (const fs::path& seed : seeds) {
    std::string name = seed.filename().string();
    valid += name.rfind("valid_", 0) == 0;
    bad += name.rfind("bad_", 0) == 0;
  }
  EXPECT_GT(valid, 0u);
  EXPECT_GT(bad, 0u);
}

TEST(HubInboundCorpusTest, EverySeedIsAcceptedOrRefusedWithoutCrashing) {
  for (const fs::path& seed : FilesIn("fuzz/corpus/hub_inbound")) {
    SCOPED_TRACE(seed.string());
    Outcome outcome = Replay(seed);
    EXPECT_EQ(outcome.broken, "") << outcome.status.ToString();
    std::string name = seed.filename().string();
    if (name.rfind("valid_", 0) == 0) {
      EXPECT_TRUE(outcome.status.ok()) << outcome.status.ToString();
    } else if (name.rfind("bad_", 0) == 0) {
      EXPECT_FALSE(outcome.status.ok());
    }
  }
}

TEST(HubInboundCorpusTest, EveryFoundCrashIsNowAcceptedOrRefusedWithoutCrashing) {
  for (const fs::path& crash : FilesIn("fuzz/crashes/hub_inbound")) {
    SCOPED_TRACE(crash.string());
    Outcome outcome = Replay(crash);
    EXPECT_EQ(outcome.broken, "") << outcome.status.ToString();
  }
}

}  // namespace
}  // namespace osrc::fuzz

// Crash safety of `osrc-node import`: the import of a large file is one
// transaction, so a SIGKILL at any moment leaves either all of the file or
// none of it, and the store opens and takes the import again afterwards.
//
// The kill points are random delays from a seeded RNG (the seed is printed;
// set OSRC_CRASH_SEED to replay a run), plus one kill aimed at the commit:
// as soon as the store file starts to grow (the transaction's pages are being
// written) the import is killed. The delays are the fault injection, not
// synchronisation: every check afterwards waits for the process to be reaped.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "tests/support/node_cli.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kBigParticipants = 60000;  // x 1 service = 120,000 records.
constexpr int kBaseParticipants = 200;   // Already in the store: must survive.
constexpr int kRandomKillPoints = 5;     // Plus the one aimed at the commit.
constexpr uint32_t kNodeCrashSeed = 20261128;

// What the store holds after a killed import.
enum class Outcome { kNone, kAll, kNeither };

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kNone:
      return "none of the file";
    case Outcome::kAll:
      return "all of the file";
    case Outcome::kNeither:
      return "PART of the file";
  }
  return "?";
}

struct StoreState {
  uint64_t log_head = 0;
  uint64_t participants = 0;
  uint64_t services = 0;
  std::string export_text;  // participants + services.
};

class NodeCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RunResult gen = RunGen({"--site", "MAS", "--participants", std::to_string(kBigParticipants),
                            "--services-per", "1", "--out", big_file_});
    ASSERT_EQ(gen.exit_code, 0) << gen.Describe();
    gen = RunGen({"--site", "MAS", "--participants", std::to_string(kBaseParticipants),
                  "--services-per", "1", "--start", "900001", "--seed", "2", "--out", base_file_});
    ASSERT_EQ(gen.exit_code, 0) << gen.Describe();

    // What "none" and "all" look like.
    std::vector<std::string> base_lines = SplitLines(ReadFile(base_file_));
    std::vector<std::string> all_lines = SplitLines(ReadFile(big_file_));
    ASSERT_EQ(all_lines.size(), 2u * kBigParticipants);
    all_lines.insert(all_lines.end(), base_lines.begin(), base_lines.end());
    std::sort(base_lines.begin(), base_lines.end());
    std::sort(all_lines.begin(), all_lines.end());
    none_.log_head = base_lines.size();
    none_.participants = none_.services = kBaseParticipants;
    for (const auto& line : base_lines) none_.export_text += line + "\n";
    all_.log_head = all_lines.size();
    all_.participants = all_.services = kBaseParticipants + kBigParticipants;
    for (const auto& line : all_lines) all_.export_text += line + "\n";
  }

  // A new node holding the base records.
  std::unique_ptr<NodeCli> NewNode() {
    auto node = std::make_unique<NodeCli>(temp_.Path("node" + std::to_string(++nodes_)));
    RunResult r = node->Init("MAS");
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    r = node->Import(base_file_);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return node;
  }

  // Reads the node's state; the store must open and export.
  static StoreState Read(const NodeCli& node) {
    StoreState state;
    nlohmann::json status = node.Status();  // Throws if the store does not open.
    state.log_head = status.at("log_head").get<uint64_t>();
    state.participants = NodeCli::Count(status, "participants");
    state.services = NodeCli::Count(status, "services");
    for (const char* collection : {"participants", "services"}) {
      RunResult r = node.Export(collection);
      EXPECT_EQ(r.exit_code, 0) << r.Describe();
      state.export_text += r.out;
    }
    return state;
  }

  static bool Same(const StoreState& a, const StoreState& b) {
    return a.log_head == b.log_head && a.participants == b.participants &&
           a.services == b.services && a.export_text == b.export_text;
  }

  Outcome Check(const NodeCli& node) {
    StoreState state = Read(node);
    if (Same(state, none_)) return Outcome::kNone;
    if (Same(state, all_)) return Outcome::kAll;
    ADD_FAILURE() << "after the kill the store holds part of the import: log_head "
                  << state.log_head << " (none " << none_.log_head << ", all " << all_.log_head
                  << "), participants " << state.participants << ", services " << state.services
                  << ", export " << state.export_text.size() << " bytes (none "
                  << none_.export_text.size() << ", all " << all_.export_text.size() << ")";
    return Outcome::kNeither;
  }

  TempDir temp_{"osrc-crash-test"};
  std::string big_file_ = temp_.Path("big.jsonl");
  std::string base_file_ = temp_.Path("base.jsonl");
  StoreState none_;
  StoreState all_;
  int nodes_ = 0;
};

TEST_F(NodeCrashTest, KilledImportLeavesAllOrNothingAndReimportCompletes) {
  const uint32_t seed = static_cast<uint32_t>(SeedFromEnv("OSRC_CRASH_SEED", kNodeCrashSeed));
  std::cout << "crash test seed " << seed << " (set OSRC_CRASH_SEED to replay)\n";
  std::mt19937 rng(seed);

  std::unique_ptr<NodeCli> node = NewNode();
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(Check(*node), Outcome::kNone);

  int interrupted = 0;
  int kill_points = 0;
  Clock::duration elapsed{};  // Of the last kill point.
  auto kill_import = [&](const std::string& label, auto&& wait_until_kill) {
    ++kill_points;
    Process import(node->Args("import", {big_file_}));
    auto start = Clock::now();
    wait_until_kill(import);
    elapsed = Clock::now() - start;
    import.Kill(SIGKILL);
    std::optional<ExitStatus> status = import.WaitFor(seconds(60));
    ASSERT_TRUE(status.has_value()) << "import not reaped after SIGKILL";
    bool killed = status->signal == SIGKILL;
    if (killed) {
      ++interrupted;
    } else {
      EXPECT_EQ(status->code, 0) << "import failed on its own: " << import.stderr_text();
    }
    Outcome outcome = Check(*node);
    std::cout << "kill point " << kill_points << " (" << label << "): after "
              << duration_cast<milliseconds>(elapsed).count() << " ms, "
              << (killed ? "killed" : "had finished") << ", store holds " << OutcomeName(outcome)
              << "\n";
    if (!killed) {
      EXPECT_EQ(outcome, Outcome::kAll) << "a finished import must hold everything";
    }
    if (outcome == Outcome::kAll) {
      node = NewNode();  // Go on crashing imports into a store without the file.
    }
  };

  // 1. Aimed at the commit: kill once the store file grows. Also measures
  //    about how long the import runs before it commits.
  kill_import("commit", [&](Process& import) {
    const std::string data_file = node->dir() + "/data.mdb";
    std::error_code ec;
    const auto initial = std::filesystem::file_size(data_file, ec);
    ASSERT_FALSE(ec) << data_file << ": " << ec.message();
    Deadline deadline = DeadlineIn(seconds(120));
    // Waiting on the exit in 1 ms steps is the poll interval.
    while (!import.Wait(DeadlineIn(milliseconds(1))).has_value()) {
      if (std::filesystem::file_size(data_file, ec) > initial) return;
      ASSERT_LT(Clock::now(), deadline) << "import neither committed nor finished";
    }
  });
  ASSERT_FALSE(HasFailure());
  const Clock::duration import_time = elapsed;
  ASSERT_GT(import_time, milliseconds(100)) << "import too fast to kill part-way";

  // 2. Random points during the import.
  std::uniform_real_distribution<double> fraction(0.02, 0.7);
  for (int i = 0; i < kRandomKillPoints; ++i) {
    auto delay = duration_cast<milliseconds>(import_time * fraction(rng));
    kill_import("random " + std::to_string(delay.count()) + " ms",
                [&](Process& import) { import.Wait(DeadlineIn(delay)); });
    ASSERT_FALSE(HasFailure());
  }
  EXPECT_GE(kill_points, 5);
  // Most kills must have hit a running import, or this tested nothing.
  EXPECT_GE(interrupted, kill_points - 2) << "kills that hit a running import";

  // 3. The store that took the crashes imports the file completely.
  RunResult reimport = node->Import(big_file_);
  ASSERT_EQ(reimport.exit_code, 0) << reimport.Describe();
  EXPECT_EQ(Check(*node), Outcome::kAll);
}

}  // namespace
}  // namespace osrc::testing

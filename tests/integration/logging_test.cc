// Where the daemons log (base/logging.h): under systemd, whose journal stream is named by
// $JOURNAL_STREAM, lines carry a syslog priority "<N>" and no timestamp and no log file is
// written; run by hand, lines are timestamped and also kept in the data folder's log file. A bad
// $OSRC_LOG_LEVEL is one clear line and exit 1.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MustRun({BinPath("osrc-hub"), "init", "--data", hub_dir_, "--bind", "tcp://127.0.0.1:*"});
  }

  // osrc-hub run, with the journal's $JOURNAL_STREAM naming its stderr when `journal`, the way
  // systemd starts a service whose output goes to the journal.
  std::vector<std::string> RunArgs(bool journal) const {
    std::vector<std::string> args = {BinPath("osrc-hub"), "run", "--data", hub_dir_,
                                     "--console",         "off"};
    if (journal) {
      args.insert(args.begin(),
                  {"sh", "-c",
                   "JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2); export JOURNAL_STREAM; "
                   "exec \"$@\"",
                   "sh"});
    }
    return args;
  }

  TempDir tmp_;
  std::string hub_dir_ = tmp_.Path("hub");
};

TEST_F(LoggingTest, UnderTheJournalLinesHavePriorityNoTimestampAndNoLogFile) {
  Process hub(RunArgs(/*journal=*/true));
  ASSERT_TRUE(hub.WaitForOutputLine("listening on", DeadlineIn(std::chrono::seconds(30))))
      << hub.stderr_text();
  StopProcess(hub, "osrc-hub");
  std::vector<std::string> lines = SplitLines(hub.stderr_text());
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(lines.front().starts_with("<6>[hub] [info] ")) << lines.front();
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& line) {
    return line.starts_with("<6>[hub] [info] listening on ");
  })) << hub.stderr_text();
  for (const std::string& line : lines) {
    EXPECT_TRUE(line.starts_with("<") && line[2] == '>' && line[3] == '[') << line;
  }
  EXPECT_FALSE(std::filesystem::exists(hub_dir_ + "/hub.log"));
}

TEST_F(LoggingTest, ByHandLinesAreTimestampedAndKeptInTheLogFile) {
  Process hub(RunArgs(/*journal=*/false));
  std::optional<std::string> line =
      hub.WaitForOutputLine("listening on", DeadlineIn(std::chrono::seconds(30)));
  ASSERT_TRUE(line) << hub.stderr_text();
  StopProcess(hub, "osrc-hub");
  EXPECT_TRUE(line->starts_with("[20")) << *line;  // [2026-12-04 12:00:00.000] [hub] [info] ...
  EXPECT_TRUE(Contains(ReadFile(hub_dir_ + "/hub.log"), "[hub] [info] listening on "));
}

TEST_F(LoggingTest, BadLogLevelIsOneClearLine) {
  ProcessOptions options;
  options.env = {{"OSRC_LOG_LEVEL", "verbose"}};
  RunResult r = RunWith(RunArgs(/*journal=*/false), options, std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(r.err, "osrc-hub: OSRC_LOG_LEVEL=verbose: must be trace, debug, info, warn or error\n");
}

TEST_F(LoggingTest, LogLevelWarnLeavesOutInfo) {
  ProcessOptions options;
  options.env = {{"OSRC_LOG_LEVEL", "warn"}};
  Process hub(RunArgs(/*journal=*/false), options);
  // Once it has run and stopped, it has passed its info lines (listening, stopping, stopped).
  ASSERT_TRUE(PollUntil(DeadlineIn(std::chrono::seconds(30)), [&] {
    return std::filesystem::exists(hub_dir_ + "/hub.endpoint") || !hub.running();
  }));
  StopProcess(hub, "osrc-hub");
  EXPECT_FALSE(Contains(hub.stderr_text(), "[info]")) << hub.stderr_text();
  EXPECT_FALSE(Contains(ReadFile(hub_dir_ + "/hub.log"), "[info]"));
}

}  // namespace
}  // namespace osrc::testing

// Tests of the test support library: TempDir, Process, Run.
#include "tests/support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <string>
#include <system_error>

#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr size_t kTenMegabytes = 10 * 1024 * 1024;

std::string Pattern(size_t size) {
  std::string data(size, '\0');
  uint32_t x = 12345;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1664525u + 1013904223u;
    data[i] = static_cast<char>(x >> 24);
  }
  return data;
}

TEST(TempDirTest, CreatesPrivateFolderAndRemovesItWithContents) {
  std::string path;
  {
    TempDir dir("osrc-tempdir-test");
    path = dir.path();
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_EQ(path.rfind("/tmp/osrc-tempdir-test-", 0), 0u) << path;
    std::filesystem::create_directories(dir.Path("a/b"));
    WriteFile(dir.Path("a/b/file"), "content");
    EXPECT_EQ(ReadFile(dir.Path("a/b/file")), "content");
    // A folder without write permission must not stop the removal.
    ::chmod(dir.Path("a").c_str(), 0500);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(TempDirTest, TwoTempDirsAreDistinct) {
  TempDir a;
  TempDir b;
  EXPECT_NE(a.path(), b.path());
}

TEST(TempDirTest, MovedTempDirOwnsTheFolder) {
  std::string path;
  {
    TempDir a;
    path = a.path();
    TempDir b(std::move(a));
    EXPECT_EQ(b.path(), path);
    EXPECT_TRUE(a.path().empty());
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(TempDirTest, ReadFileOfMissingFileThrows) {
  TempDir dir;
  EXPECT_THROW(ReadFile(dir.Path("missing")), std::system_error);
}

TEST(RunTest, CapturesStdoutOfEcho) {
  RunResult r = RunProcess({"/bin/echo", "hello", "world"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "hello world\n");
  EXPECT_EQ(r.err, "");
  EXPECT_FALSE(r.timed_out);
}

TEST(RunTest, FindsProgramInPath) {
  RunResult r = osrc::testing::Run({"echo", "x"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "x\n");
}

TEST(RunTest, ReportsExitCode) {
  EXPECT_EQ(RunProcess({"/bin/sh", "-c", "exit 3"}).exit_code, 3);
  EXPECT_EQ(RunProcess({"/bin/false"}).exit_code, 1);
  EXPECT_EQ(RunProcess({"/bin/true"}).exit_code, 0);
}

TEST(RunTest, KeepsStdoutAndStderrApart) {
  RunResult r = RunProcess({"/bin/sh", "-c", "echo out; echo err >&2; echo out2"});
  EXPECT_EQ(r.out, "out\nout2\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(RunTest, FeedsStdin) {
  RunResult r = RunProcess({"/bin/cat"}, "line 1\nline 2\n");
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "line 1\nline 2\n");
}

TEST(RunTest, StdinIsEmptyWhenNoDataGiven) {
  RunResult r = RunProcess({"/bin/cat"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
}

TEST(RunTest, CapturesTenMegabytesThroughHead) {
  RunResult r = RunProcess({"/usr/bin/head", "-c", std::to_string(kTenMegabytes), "/dev/zero"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out.size(), kTenMegabytes);
  EXPECT_EQ(r.out.find_first_not_of('\0'), std::string::npos);
}

TEST(RunTest, LargeStdinAndStdoutAtOnceDoNotDeadlock) {
  // cat writes while it still reads: the pipes fill up in both directions.
  std::string data = Pattern(kTenMegabytes);
  RunResult r = RunProcess({"/bin/cat"}, data);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(r.out == data) << "stdout differs: " << r.out.size() << " bytes";
}

TEST(RunTest, LargeOutputOnBothStreamsDoesNotDeadlock) {
  RunResult r = RunProcess({"/bin/sh", "-c",
                            "head -c 5000000 /dev/zero >&2; head -c 5000000 /dev/zero; "
                            "head -c 5000000 /dev/zero >&2"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out.size(), 5000000u);
  EXPECT_EQ(r.err.size(), 10000000u);
}

TEST(RunTest, ChildThatIgnoresLargeStdinDoesNotBreakTheTest) {
  // The child exits without reading: writing its stdin fails with EPIPE,
  // which must neither kill the test (SIGPIPE) nor hang it.
  RunResult r = RunProcess({"/bin/true"}, Pattern(kTenMegabytes));
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
}

TEST(RunTest, TimeoutKillsTheProcess) {
  auto start = Clock::now();
  RunResult r = RunProcess({"/bin/sleep", "1000"}, "", milliseconds(200));
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_LT(Clock::now() - start, seconds(10));
}

TEST(RunTest, ReportsSignalThatEndedTheProcess) {
  RunResult r = RunProcess({"/bin/sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.Describe().find("signal 15"), std::string::npos) << r.Describe();
}

TEST(RunTest, PassesExtraEnvironmentAndUnsetsVariables) {
  ::setenv("OSRC_PROCESS_TEST_GONE", "still here", 1);
  ProcessOptions options;
  options.env = {{"OSRC_PROCESS_TEST_VAR", "a value"}, {"HOME", "/nowhere"}};
  options.unset_env = {"OSRC_PROCESS_TEST_GONE"};
  RunResult r = RunWith(
      {"/bin/sh", "-c", "echo \"$OSRC_PROCESS_TEST_VAR|$HOME|${OSRC_PROCESS_TEST_GONE-unset}\""},
      options);
  ::unsetenv("OSRC_PROCESS_TEST_GONE");
  EXPECT_EQ(r.out, "a value|/nowhere|unset\n") << r.Describe();
  // The rest of the environment is inherited.
  EXPECT_EQ(RunProcess({"/bin/sh", "-c", "echo ${PATH:+set}"}).out, "set\n");
}

TEST(RunTest, TakesStdinFromFileAndWritesStdoutToFile) {
  TempDir dir;
  WriteFile(dir.Path("in"), "from a file\n");
  ProcessOptions options;
  options.stdin_file = dir.Path("in");
  options.stdout_file = dir.Path("out");
  RunResult r = RunWith({"/bin/cat"}, options);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(ReadFile(dir.Path("out")), "from a file\n");
}

TEST(RunTest, RunsInWorkingDirectory) {
  TempDir dir;
  ProcessOptions options;
  options.working_dir = dir.path();
  RunResult r = RunWith({"/bin/pwd"}, options);
  EXPECT_EQ(r.out, dir.path() + "\n") << r.Describe();
}

TEST(RunTest, DoesNotLeakTestDescriptorsIntoChild) {
  int fd = ::open("/dev/null", O_RDONLY);  // Deliberately without O_CLOEXEC.
  ASSERT_GE(fd, 0);
  std::string check = "test -e /proc/self/fd/" + std::to_string(fd);
  RunResult r = RunProcess({"/bin/sh", "-c", check});
  ::close(fd);
  EXPECT_EQ(r.exit_code, 1) << "fd " << fd << " leaked into the child";
}

TEST(ProcessTest, MissingProgramThrows) {
  EXPECT_THROW(Process({"/nonexistent/program"}), std::system_error);
  EXPECT_THROW(Process({"osrc-no-such-program-in-path"}), std::system_error);
  EXPECT_THROW(Process({}), std::invalid_argument);
}

TEST(ProcessTest, MissingStdinFileThrows) {
  ProcessOptions options;
  options.stdin_file = "/nonexistent/input";
  EXPECT_THROW(Process({"/bin/cat"}, options), std::system_error);
}

TEST(ProcessTest, WaitTimesOutWhileRunningAndKillEndsIt) {
  Process p({"/bin/sleep", "1000"});
  EXPECT_GT(p.pid(), 0);
  EXPECT_FALSE(p.Wait(DeadlineIn(milliseconds(50))).has_value());
  EXPECT_TRUE(p.running());
  EXPECT_TRUE(p.Kill(SIGTERM));
  std::optional<ExitStatus> status = p.WaitFor(seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->signal, SIGTERM);
  EXPECT_FALSE(status->exited());
  EXPECT_FALSE(p.running());
  // Once reaped, the pid may belong to someone else: no more signals.
  EXPECT_FALSE(p.Kill(SIGKILL));
}

TEST(ProcessTest, DestructorKillsAndReapsRunningProcess) {
  pid_t pid;
  {
    Process p({"/bin/sleep", "1000"});
    pid = p.pid();
    ASSERT_EQ(::kill(pid, 0), 0);
  }
  // Reaped: not even a zombie is left.
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(ProcessTest, WaitForOutputLineFindsReadinessLine) {
  Process p(
      {"/bin/sh", "-c", "echo starting; echo 'listening on 127.0.0.1:7400' >&2; exec sleep 1000"});
  std::optional<std::string> line = p.WaitForOutputLine("listening on", DeadlineIn(seconds(10)));
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(*line, "listening on 127.0.0.1:7400");
  EXPECT_TRUE(p.running());
  EXPECT_EQ(p.stdout_text(), "starting\n");
}

TEST(ProcessTest, WaitForOutputLineOnlyLooksAtTheChosenStream) {
  Process p({"/bin/sh", "-c", "echo 'ready' >&2"});
  EXPECT_FALSE(p.WaitForOutputLine("ready", DeadlineIn(seconds(10)), Stream::kStdout).has_value());
  EXPECT_TRUE(p.WaitForOutputLine("ready", DeadlineIn(seconds(10)), Stream::kStderr).has_value());
}

TEST(ProcessTest, WaitForOutputLineWithPredicateAndCursorMovesForward) {
  Process p({"/bin/sh", "-c", "printf 'tick 1\\nother\\ntick 2\\ntick 3'"});
  LineCursor cursor;
  auto is_tick = [](std::string_view line) { return line.rfind("tick ", 0) == 0; };
  Deadline deadline = DeadlineIn(seconds(10));
  EXPECT_EQ(p.WaitForOutputLine(is_tick, deadline, Stream::kBoth, &cursor), "tick 1");
  EXPECT_EQ(p.WaitForOutputLine(is_tick, deadline, Stream::kBoth, &cursor), "tick 2");
  // The last line has no '\n': it counts once the stream ends.
  EXPECT_EQ(p.WaitForOutputLine(is_tick, deadline, Stream::kBoth, &cursor), "tick 3");
  EXPECT_EQ(p.WaitForOutputLine(is_tick, deadline, Stream::kBoth, &cursor), std::nullopt);
  // Without a cursor the search starts at the first line again.
  EXPECT_EQ(p.WaitForOutputLine(is_tick, deadline), "tick 1");
  EXPECT_EQ(p.Lines(Stream::kStdout),
            (std::vector<std::string>{"tick 1", "other", "tick 2", "tick 3"}));
}

TEST(ProcessTest, WaitForOutputLineGivesUpWhenOutputEnds) {
  Process p({"/bin/sh", "-c", "echo nothing useful"});
  auto start = Clock::now();
  EXPECT_FALSE(p.WaitForOutputLine("ready", DeadlineIn(seconds(60))).has_value());
  EXPECT_LT(Clock::now() - start, seconds(10));
}

TEST(ProcessTest, WaitForOutputLineTimesOut) {
  Process p({"/bin/sleep", "1000"});
  auto start = Clock::now();
  EXPECT_FALSE(p.WaitForOutputLine("ready", DeadlineIn(milliseconds(100))).has_value());
  EXPECT_GE(Clock::now() - start, milliseconds(100));
}

TEST(ProcessTest, OutputIsCompleteWhenWaitReturns) {
  // Many short writes right before the exit must all be captured.
  Process p({"/bin/sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done"});
  ASSERT_TRUE(p.WaitFor(seconds(30)).has_value());
  std::vector<std::string> lines = SplitLines(p.stdout_text());
  ASSERT_EQ(lines.size(), 2000u);
  EXPECT_EQ(lines.back(), "line 1999");
}

TEST(ExitStatusTest, DescribesExitAndSignal) {
  EXPECT_EQ((ExitStatus{3, 0}).ToString(), "exit 3");
  EXPECT_EQ((ExitStatus{-1, SIGKILL}).ToString().rfind("signal 9", 0), 0u);
  EXPECT_TRUE((ExitStatus{0, 0}).success());
  EXPECT_FALSE((ExitStatus{-1, SIGKILL}).success());
}

TEST(PathsTest, BinPathAndSourcePathUseTheConfiguredFolders) {
  EXPECT_EQ(BinPath("osrc-node"), std::string(OSRC_BIN_DIR) + "/osrc-node");
  EXPECT_TRUE(std::filesystem::exists(SourcePath("config/defaults/schema.toml")));
}

TEST(SplitLinesTest, SplitsOnNewlines) {
  EXPECT_EQ(SplitLines("a\nb\n"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(SplitLines("a\n\nb"), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_TRUE(SplitLines("").empty());
}

}  // namespace
}  // namespace osrc::testing

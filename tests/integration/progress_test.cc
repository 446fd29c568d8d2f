// Progress of long commands, seen by a user at a terminal: a real import and export with stderr
// on a pseudo-terminal draw a progress line and clear it; with stderr on a pipe they print
// nothing extra. OSRC_PROGRESS_DELAY_MS=0 shows progress at once, so the test does not depend on
// the machine's speed (the one-second delay is tested on a fake clock in base/progress_test.cc).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/cluster.h"
#include "tests/support/node_cli.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

struct PtyResult {
  int exit_code = -1;
  std::string terminal;  // what the program wrote to its stderr, the terminal
};

// Runs `args` with stderr on a new pseudo-terminal, stdout to `stdout_file`, stdin from
// /dev/null and OSRC_PROGRESS_DELAY_MS=0, until it exits.
PtyResult RunOnTerminal(const std::vector<std::string>& args, const std::string& stdout_file) {
  int master = -1;
  int slave = -1;
  if (openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
    ADD_FAILURE() << "openpty failed: " << errno;
    return {};
  }
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  // The environment is built before fork: the child only calls async-signal-safe functions.
  std::vector<std::string> env_strings = {"OSRC_PROGRESS_DELAY_MS=0"};
  for (char** e = environ; *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with("OSRC_PROGRESS_DELAY_MS=")) env_strings.push_back(*e);
  }
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int in = open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(slave, 2);
    close(master);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(slave);
  PtyResult result;
  char buffer[4096];
  while (true) {
    pollfd item{master, POLLIN, 0};
    if (poll(&item, 1, 60'000) <= 0) break;  // a deadline, not a synchronisation
    ssize_t n = read(master, buffer, sizeof buffer);
    if (n <= 0) break;  // EIO once the program has closed the terminal
    result.terminal.append(buffer, n);
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class ProgressTest : public ::testing::Test {
 protected:
  ProgressTest() : tmp_("osrc-progress-test"), node_(tmp_.Path("node")) {}
  void SetUp() override {
    ASSERT_TRUE(node_.Init("MAS").ok());
    RunResult gen = RunGen({"--site", "MAS", "--participants", "3000", "--services-per", "0",
                            "--out", tmp_.Path("p.jsonl")});
    ASSERT_TRUE(gen.ok()) << gen.Describe();
  }
  TempDir tmp_;
  NodeCli node_;
};

TEST_F(ProgressTest, ImportAndExportDrawProgressOnATerminalAndClearIt) {
  PtyResult import = RunOnTerminal(node_.Args("import", {tmp_.Path("p.jsonl")}), tmp_.Path("out"));
  EXPECT_EQ(import.exit_code, 0) << import.terminal;
  EXPECT_NE(import.terminal.find("\rimport: "), std::string::npos) << import.terminal;
  EXPECT_NE(import.terminal.find(" of 3000 records"), std::string::npos) << import.terminal;
  // The last thing written blanks the line and returns to its start.
  ASSERT_FALSE(import.terminal.empty());
  EXPECT_EQ(import.terminal.back(), '\r');
  EXPECT_EQ(import.terminal.find('\n'), std::string::npos) << import.terminal;
  EXPECT_NE(ReadFile(tmp_.Path("out")).find("imported 3000 records"), std::string::npos);

  PtyResult exported =
      RunOnTerminal(node_.Args("export", {"--collection", "participants", "--include-personal"}),
                    tmp_.Path("export.jsonl"));
  EXPECT_EQ(exported.exit_code, 0) << exported.terminal;
  EXPECT_NE(exported.terminal.find("\rexport: "), std::string::npos) << exported.terminal;
  EXPECT_TRUE(ReadFile(tmp_.Path("export.jsonl")) == ReadFile(tmp_.Path("p.jsonl")));
}

TEST_F(ProgressTest, NothingExtraWhenStderrIsNotATerminal) {
  ProcessOptions options;
  options.env = {{"OSRC_PROGRESS_DELAY_MS", "0"}};
  RunResult import = node_.RunWithOptions("import", {tmp_.Path("p.jsonl")}, options);
  EXPECT_EQ(import.exit_code, 0) << import.Describe();
  EXPECT_EQ(import.err, "");
  RunResult exported = node_.RunWithOptions("export", {}, options);
  EXPECT_EQ(exported.exit_code, 0) << exported.Describe();
  EXPECT_EQ(exported.err, "");
}

// Bundles (node export, hub import, node reply import) and a sync, each on a terminal.
TEST(LinkProgressTest, BundlesAndSyncDrawProgressOnATerminal) {
  TempDir tmp("osrc-link-progress-test");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  auto node = [&](std::vector<std::string> args) {
    args.insert(args.begin(), BinPath("osrc-node"));
    args.insert(args.end(), {"--data", mas.dir()});
    return RunOnTerminal(args, tmp.Path("out"));
  };
  auto expect_drawn = [](const PtyResult& r, std::string_view line) {
    EXPECT_EQ(r.exit_code, 0) << r.terminal;
    EXPECT_NE(r.terminal.find(line), std::string::npos) << r.terminal;
  };
  auto import_batch = [&](const std::string& start) {
    RunResult gen = RunGen({"--site", "MAS", "--participants", "1000", "--services-per", "0",
                            "--start", start, "--out", tmp.Path("p.jsonl")});
    ASSERT_TRUE(gen.ok()) << gen.Describe();
    mas.Import(tmp.Path("p.jsonl"));
  };
  import_batch("1");
  PtyResult exported = node({"bundle", "export", tmp.Path("b.bundle")});
  expect_drawn(exported, "\rbundle export: ");
  expect_drawn(exported, " of 1000 changes");
  expect_drawn(RunOnTerminal({BinPath("osrc-hub"), "bundle", "import", tmp.Path("b.bundle"),
                              "--reply", tmp.Path("b.reply"), "--data", hub.dir()},
                             tmp.Path("out")),
               "\rbundle import: 0 of 1000 changes");
  expect_drawn(node({"bundle", "import", tmp.Path("b.reply")}), "\rbundle import: ");
  import_batch("1001");
  hub.Start();
  expect_drawn(node({"sync", "--timeout", "60"}), "\rsync: 0 of 1000 changes acknowledged");
  EXPECT_EQ(mas.Status().at("pending"), 0) << mas.Status().dump();
}

}  // namespace
}  // namespace osrc::testing

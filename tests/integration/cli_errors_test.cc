// Failures a user meets at the command line, each one clear line on stderr and exit 1, never an
// abort: a data folder of another account, no hub set, a malformed key in node.toml, a hub key
// that is not the hub's, an unenrolled site, a record whose stored bytes are corrupt.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <vector>

#include "base/text.h"
#include "storage/store.h"
#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

// Exit 1 with exactly one line on stderr, starting with the program's name and holding every
// part of `parts`.
::testing::AssertionResult FailsWithOneLine(const RunResult& r, const std::string& program,
                                            const std::vector<std::string>& parts) {
  std::vector<std::string> lines = SplitLines(r.err);
  if (r.exit_code != 1 || lines.size() != 1 || !lines[0].starts_with(program + ": ")) {
    return ::testing::AssertionFailure() << "want exit 1 and one line on stderr: " << r.Describe();
  }
  for (const std::string& part : parts) {
    if (!Contains(lines[0], part)) {
      return ::testing::AssertionFailure() << "no \"" << part << "\" in: " << lines[0];
    }
  }
  return ::testing::AssertionSuccess();
}

// Runs `args` as user nobody (tests run as root, which reads every folder).
RunResult RunAsNobody(std::vector<std::string> args) {
  args.insert(args.begin(),
              {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"});
  return RunProcess(std::move(args));
}

// A temporary folder others may traverse, so only a data folder's own mode (0700) keeps them out.
TempDir OpenTempDir(const std::string& prefix) {
  TempDir tmp(prefix);
  if (::chmod(tmp.path().c_str(), 0755) != 0) throw std::runtime_error("chmod " + tmp.path());
  return tmp;
}

TEST(CliErrors, DataFolderOfAnotherAccountIsOneLineForEveryCommand) {
  TempDir tmp = OpenTempDir("osrc-cli-perm");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  const std::vector<std::vector<std::string>> node_commands = {
      {"status"},
      {"export"},
      {"get", "participants", "MAS-P0000001"},
      {"put", "participants", "MAS-P0000001", "--json", "{}"},
      {"sync"},
      {"run"},
      {"bundle", "export", tmp.Path("b.osrc")}};
  for (std::vector<std::string> args : node_commands) {
    args.insert(args.begin(), BinPath("osrc-node"));
    args.insert(args.end(), {"--data", mas.dir()});
    EXPECT_TRUE(FailsWithOneLine(RunAsNobody(args), "osrc-node",
                                 {mas.dir(), "Permission denied", "belongs to root"}));
  }
  const std::vector<std::vector<std::string>> hub_commands = {
      {"status"},
      {"export"},
      {"conflicts"},
      {"run"},
      {"enrol", "--site", "ANT", "--key", mas.key()}};
  for (std::vector<std::string> args : hub_commands) {
    args.insert(args.begin(), BinPath("osrc-hub"));
    args.insert(args.end(), {"--data", hub.dir()});
    EXPECT_TRUE(FailsWithOneLine(RunAsNobody(args), "osrc-hub",
                                 {hub.dir(), "Permission denied", "belongs to root"}));
  }
}

TEST(CliErrors, SyncAndRunWithNoHubSaySetOneInNodeToml) {
  TempDir tmp("osrc-cli-nohub");
  std::string dir = tmp.Path("mas");
  MustRun(BinArgs("osrc-node", {"init", "--data", dir, "--site", "MAS"}));
  for (const char* command : {"sync", "run"}) {
    RunResult r = RunProcess(BinArgs("osrc-node", {command, "--data", dir}));
    EXPECT_TRUE(FailsWithOneLine(
        r, "osrc-node",
        {"no hub set", dir + "/node.toml", "osrc-node config set-hub --data " + dir, "--hub-key"}));
  }
  // An endpoint without the key is still refused before any connection.
  SetTomlValue(dir + "/node.toml", "endpoint", "'tcp://127.0.0.1:9'");
  RunResult r = RunProcess(BinArgs("osrc-node", {"sync", "--data", dir}));
  EXPECT_TRUE(FailsWithOneLine(r, "osrc-node", {"no hub public key set", "config set-hub"}));
}

TEST(CliErrors, MalformedValuesInNodeTomlNameTheKey) {
  TempDir tmp("osrc-cli-badkey");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  mas.SetConfig("public_key", "'not-a-key'");
  for (const char* command : {"sync", "run", "status"}) {
    EXPECT_TRUE(
        FailsWithOneLine(mas.Run({command}), "osrc-node", {"node.toml: [hub] public_key", "Z85"}));
  }
  mas.SetConfig("public_key", "'" + hub.key() + "'");
  mas.SetConfig("endpoint", "'127.0.0.1:7400'");
  EXPECT_TRUE(FailsWithOneLine(mas.Run({"sync"}), "osrc-node",
                               {"node.toml: [hub] endpoint", "tcp://HOST:PORT"}));
}

TEST(CliErrors, WrongHubKeySaysTheHandshakeFailedAndUnenrolledSaysEnrol) {
  TempDir tmp("osrc-cli-handshake");
  ClusterHub hub(tmp);
  ClusterHub other_hub(tmp, "other-hub");
  ClusterNode::Options wrong_key;
  wrong_key.hub_key = other_hub.key();
  ClusterNode mas(tmp, "MAS", hub, wrong_key);  // enrolled, but trusts another hub's key
  ClusterNode::Options not_enrolled;
  not_enrolled.enrol = false;
  ClusterNode ant(tmp, "ANT", hub, not_enrolled);
  hub.Start();

  RunResult wrong = mas.Sync(20);
  EXPECT_TRUE(
      FailsWithOneLine(wrong, "osrc-node", {"handshake", "hub key in node.toml", hub.endpoint()}));
  EXPECT_FALSE(Contains(wrong.err, "heartbeat")) << wrong.Describe();

  RunResult stranger = ant.Sync(20);
  EXPECT_TRUE(FailsWithOneLine(stranger, "osrc-node",
                               {"not enrolled",
                                "osrc-hub enrol --data /var/lib/osrc/hub --site ANT "
                                "--key " +
                                    ShellQuoted(ant.key())}));
  EXPECT_FALSE(Contains(stranger.err, "hub key in node.toml")) << stranger.Describe();
  hub.Stop();
}

TEST(CliErrors, CorruptRecordIsOneLineForGetAndExport) {
  TempDir tmp("osrc-cli-corrupt");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  mas.Import(GenerateSample(tmp, "MAS", {"--participants", "3"}, "mas.jsonl"));
  ASSERT_TRUE(mas.Run({"get", "participants", "MAS-P0000001"}).ok());
  {
    storage::Store store(mas.dir(), storage::EnvOptions{});
    storage::WriteTxn txn(store.env());
    txn.Put(store.records(), storage::RecordKey("participants", "MAS-P0000001"), "\xff\x01garbage");
    txn.Commit();
  }
  EXPECT_TRUE(FailsWithOneLine(mas.Run({"get", "participants", "MAS-P0000001"}), "osrc-node",
                               {"participants/MAS-P0000001", "corruption"}));
  EXPECT_TRUE(FailsWithOneLine(mas.Run({"export"}), "osrc-node", {"corruption"}));
  EXPECT_TRUE(FailsWithOneLine(mas.Run({"export", "--collection", "participants"}), "osrc-node",
                               {"corruption"}));
}

}  // namespace
}  // namespace osrc::testing

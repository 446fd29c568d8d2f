// Tests of the node's everyday commands: `config show`, `config set-hub` and `key`, and that the
// commands their hints print can be pasted into a shell as they are.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "base/text.h"
#include "tests/support/cluster.h"
#include "tests/support/node_cli.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

// `osrc-node config ARGS` on `node`'s data folder.
RunResult Config(const NodeCli& node, const std::vector<std::string>& args) {
  std::vector<std::string> all{BinPath("osrc-node"), "config", args.at(0), "--data", node.dir()};
  all.insert(all.end(), args.begin() + 1, args.end());
  return RunProcess(all);
}

// The indented command line of a hint, with `from` replaced by `to`.
std::string HintCommand(const std::string& text, const std::string& starts, const std::string& from,
                        const std::string& to) {
  for (const std::string& line : SplitLines(text)) {
    size_t at = line.find(starts);
    if (at == std::string::npos) continue;
    std::string command = line.substr(at);
    size_t found = command.find(from);
    if (found != std::string::npos) command.replace(found, from.size(), to);
    return command;
  }
  ADD_FAILURE() << "no hint starting " << starts << " in:\n" << text;
  return {};
}

TEST(NodeConfig, PastedHintsEnrolTheSiteAndPointItAtTheHub) {
  TempDir tmp("osrc-node-config");
  ClusterHub hub(tmp);
  hub.Start();
  NodeCli mas(tmp.Path("mas"));
  RunResult init = mas.Init("MAS");
  ASSERT_TRUE(init.ok()) << init.Describe();
  std::string key = LastLine(init.out);

  RunResult printed = mas.Run("key");
  ASSERT_TRUE(printed.ok()) << printed.Describe();
  EXPECT_EQ(printed.out, key + "\n");
  std::string enrol =
      HintCommand(printed.err, "osrc-hub enrol", "/var/lib/osrc/hub", ShellQuoted(hub.dir()));
  EXPECT_NE(enrol.find(" --key " + ShellQuoted(key)), std::string::npos) << enrol;
  RunResult pasted = RunProcess({"/bin/sh", "-c", BinPath("") + enrol});
  ASSERT_TRUE(pasted.ok()) << pasted.Describe();
  EXPECT_EQ(hub.SiteStatus("MAS").at("revoked"), false);

  // The hub's init hint, pasted with this machine's address and the data folder, points the site
  // at the hub; sync then works.
  TempDir other("osrc-node-config-hub");
  RunResult hub_init = RunProcess(
      BinArgs("osrc-hub", {"init", "--data", other.Path("hub"), "--bind", "tcp://127.0.0.1:7400"}));
  ASSERT_TRUE(hub_init.ok()) << hub_init.Describe();
  EXPECT_TRUE(Contains(hub_init.out, " --hub-key " + ShellQuoted(LastLine(hub_init.out))));
  std::string set_hub = HintCommand(hub_init.out, "osrc-node config set-hub", "/var/lib/osrc/node",
                                    ShellQuoted(mas.dir()));
  // "$" in a regex_replace format starts a reference ("$'", "$&"): a key may hold them.
  auto literal = [](std::string text) {
    return std::regex_replace(text, std::regex("\\$"), "$$$$");
  };
  set_hub = std::regex_replace(set_hub, std::regex("tcp://HUB-ADDRESS:7400"), hub.endpoint());
  set_hub = std::regex_replace(set_hub, std::regex("--hub-key [^ ]+"),
                               literal("--hub-key " + ShellQuoted(hub.key())));
  RunResult pointed = RunProcess({"/bin/sh", "-c", BinPath("") + set_hub});
  ASSERT_TRUE(pointed.ok()) << pointed.Describe();
  RunResult synced = mas.Run("sync", {"--timeout", "30"});
  EXPECT_TRUE(synced.ok()) << synced.Describe();
  hub.Stop();
}

TEST(NodeConfig, SetHubChecksBothValuesAndRewritesNodeTomlWhole) {
  TempDir tmp("osrc-node-sethub");
  NodeCli mas(tmp.Path("mas"));
  ASSERT_TRUE(mas.Init("MAS").ok());
  std::string toml = mas.dir() + "/node.toml";
  std::string before = ReadFile(toml);
  const std::string key = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";

  RunResult bad_endpoint = Config(mas, {"set-hub", "--hub", "10.0.0.1:7400", "--hub-key", key});
  EXPECT_EQ(bad_endpoint.exit_code, 1);
  EXPECT_TRUE(Contains(bad_endpoint.err, "--hub 10.0.0.1:7400: must be tcp://HOST:PORT"))
      << bad_endpoint.Describe();
  RunResult any_port = Config(mas, {"set-hub", "--hub", "tcp://10.0.0.1:*", "--hub-key", key});
  EXPECT_EQ(any_port.exit_code, 1) << any_port.Describe();
  RunResult bad_key = Config(mas, {"set-hub", "--hub", "tcp://10.0.0.1:7400", "--hub-key", "abc"});
  EXPECT_EQ(bad_key.exit_code, 1);
  EXPECT_TRUE(Contains(bad_key.err, "--hub-key: not a 40-character Z85")) << bad_key.Describe();
  EXPECT_EQ(ReadFile(toml), before);

  RunResult set = Config(mas, {"set-hub", "--hub", "tcp://10.0.0.1:7400", "--hub-key", key});
  ASSERT_TRUE(set.ok()) << set.Describe();
  RunResult shown = Config(mas, {"show"});
  ASSERT_TRUE(shown.ok()) << shown.Describe();
  EXPECT_TRUE(Contains(shown.out, "site = 'MAS'")) << shown.out;
  EXPECT_TRUE(Contains(shown.out, "endpoint = 'tcp://10.0.0.1:7400'")) << shown.out;
  EXPECT_TRUE(Contains(shown.out, "public_key = '" + key + "'")) << shown.out;
  EXPECT_TRUE(Contains(shown.out, "window = ")) << shown.out;
  EXPECT_EQ(access((toml + ".tmp").c_str(), F_OK), -1);
  // The rewritten file loads: status reads it back.
  EXPECT_TRUE(mas.Run("status").ok());
}

}  // namespace
}  // namespace osrc::testing

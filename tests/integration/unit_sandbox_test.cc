// The daemons under the sandbox of their systemd units (packaging/*.service): the seccomp filters
// of RestrictAddressFamilies= and SystemCallFilter= (groups expanded by systemd-analyze), applied
// by tests/support/unit_sandbox_main.cc as systemd would. The hub serves and a node's daemon gets
// in step with it. Two exceptions in the units are needed: without AF_NETLINK the hub cannot
// bind, and with ~@resources ZeroMQ cannot start its threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

using Names = std::set<std::string>;

// The system calls of a SystemCallFilter= group such as "@system-service", nested groups
// expanded.
Names ExpandGroup(const std::string& group) {
  RunResult r = RunProcess({"systemd-analyze", "syscall-filter", group});
  if (!r.ok()) throw std::runtime_error("systemd-analyze syscall-filter: " + r.Describe());
  Names names;
  std::vector<std::string> lines = SplitLines(r.out);
  for (size_t i = 1; i < lines.size(); ++i) {  // line 0 is the group's own name
    std::istringstream words(lines[i]);
    std::string word;
    if (!(words >> word) || word.starts_with("#")) continue;
    if (word.starts_with("@")) {
      names.merge(ExpandGroup(word));
    } else {
      names.insert(word);
    }
  }
  return names;
}

// What a unit's seccomp filters allow.
struct Sandbox {
  std::string families;       // "AF_INET,AF_INET6,..."
  std::string syscalls_file;  // the allowed system calls, one per line
};

// The values of `key`= in a unit file, one entry per line that sets it.
std::vector<std::string> UnitValues(const std::string& unit, const std::string& key) {
  std::istringstream text(ReadFile(SourcePath("packaging/" + unit)));
  std::vector<std::string> values;
  for (std::string line; std::getline(text, line);) {
    if (line.starts_with(key + "=")) values.push_back(line.substr(key.size() + 1));
  }
  if (values.empty()) throw std::runtime_error("no " + key + "= in " + unit);
  return values;
}

// The unit's SystemCallFilter= lines: an allow list, then "~" lines taking groups out of it.
// `also_deny` takes more out, and `families`, if not empty, replaces the unit's families.
Sandbox UnitSandbox(const TempDir& tmp, const std::string& unit, const Names& also_deny = {},
                    const std::string& families = "") {
  Names allowed, denied;
  for (const std::string& value : UnitValues(unit, "SystemCallFilter")) {
    bool deny = value.starts_with("~");
    std::istringstream words(deny ? value.substr(1) : value);
    for (std::string word; words >> word;) {
      (deny ? denied : allowed).merge(word.starts_with("@") ? ExpandGroup(word) : Names{word});
    }
  }
  for (const std::string& group : also_deny) denied.merge(ExpandGroup(group));
  std::string list;
  for (const std::string& name : allowed) {
    if (!denied.contains(name)) list += name + "\n";
  }
  Sandbox sandbox{.families = families, .syscalls_file = tmp.Path(unit + ".syscalls")};
  WriteFile(sandbox.syscalls_file, list);
  if (sandbox.families.empty()) {
    std::istringstream words(UnitValues(unit, "RestrictAddressFamilies").back());
    for (std::string word; words >> word;) {
      sandbox.families += (sandbox.families.empty() ? "" : ",") + word;
    }
  }
  return sandbox;
}

std::vector<std::string> Sandboxed(const Sandbox& sandbox, std::vector<std::string> args) {
  std::vector<std::string> all = {BinPath("unit_sandbox"), sandbox.families, sandbox.syscalls_file,
                                  "--"};
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

class UnitSandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifndef OSRC_UNIT_SANDBOX
    GTEST_SKIP() << "unit_sandbox not built: needs libseccomp-dev (make deps)";
#endif
    hub_key_ = LastLine(
        MustRun({BinPath("osrc-hub"), "init", "--data", hub_dir_, "--bind", "tcp://127.0.0.1:*"}));
  }

  // Runs the hub daemon in `sandbox`; it must fail to start (exit or signal, not a timeout).
  void ExpectHubFails(const Sandbox& sandbox) {
    RunResult r = RunProcess(
        Sandboxed(sandbox, {BinPath("osrc-hub"), "run", "--data", hub_dir_, "--console", "off"}),
        {}, std::chrono::seconds(30));
    EXPECT_FALSE(r.ok() || r.timed_out) << r.Describe();
  }

  TempDir tmp_;
  std::string hub_dir_ = tmp_.Path("hub");
  std::string hub_key_;
};

TEST_F(UnitSandboxTest, DaemonsServeAndSyncInTheirUnitsSandboxes) {
  // The console on too (any free port): its socket and threads must pass the unit's filter.
  Process hub(
      Sandboxed(UnitSandbox(tmp_, "osrc-hub.service"),
                {BinPath("osrc-hub"), "run", "--data", hub_dir_, "--console", "127.0.0.1:0"}));
  ASSERT_TRUE(hub.WaitForOutputLine("listening on", DeadlineIn(std::chrono::seconds(30))))
      << hub.stderr_text();
  std::string endpoint = LastLine(ReadFile(hub_dir_ + "/hub.endpoint"));
  std::string node_dir = tmp_.Path("node");
  std::string site_key =
      LastLine(MustRun({BinPath("osrc-node"), "init", "--data", node_dir, "--site", "MAS", "--hub",
                        endpoint, "--hub-key", hub_key_}));
  MustRun({BinPath("osrc-hub"), "enrol", "--data", hub_dir_, "--site", "MAS", "--key", site_key});
  MustRun({BinPath("osrc-node"), "import", "--data", node_dir,
           GenerateSample(tmp_, "MAS", {"--participants", "50"}, "mas.jsonl")});

  Process node(Sandboxed(UnitSandbox(tmp_, "osrc-node.service"),
                         {BinPath("osrc-node"), "run", "--data", node_dir}));
  nlohmann::json status;
  bool in_step = PollUntil(DeadlineIn(std::chrono::seconds(60)), [&] {
    status = nlohmann::json::parse(
        MustRun({BinPath("osrc-node"), "status", "--data", node_dir, "--json"}));
    return !node.running() || (status["pending"] == 0 && status["acked"] == status["log_head"]);
  });
  EXPECT_TRUE(in_step && node.running()) << status.dump() << "\n" << node.stderr_text();
  EXPECT_GT(status["acked"].get<uint64_t>(), 0u) << status.dump();
  StopProcess(node, "osrc-node");
  StopProcess(hub, "osrc-hub");
}

TEST_F(UnitSandboxTest, HubCannotBindWithoutNetlink) {
  ExpectHubFails(UnitSandbox(tmp_, "osrc-hub.service", {}, "AF_INET,AF_INET6,AF_UNIX"));
}

TEST_F(UnitSandboxTest, ZeroMqCannotStartWithoutTheResourcesGroup) {
  ExpectHubFails(UnitSandbox(tmp_, "osrc-hub.service", {"@resources"}));
}

}  // namespace
}  // namespace osrc::testing

// `osrc-hub operator add|remove|list` from a script: the password is the first line of standard
// input; short or missing passwords and unknown roles are refused with a clear message and add
// nobody; adds and removes are audited; the list shows names and roles, never hashes.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

RunResult Operator(const ClusterHub& hub, std::vector<std::string> args,
                   const std::string& input = {}) {
  args.insert(args.begin(), {BinPath("osrc-hub"), "operator"});
  args.insert(args.end(), {"--data", hub.dir()});
  return RunProcess(std::move(args), input);
}

TEST(OperatorCli, AddsFromStandardInputListsRefusesAndRemoves) {
  TempDir tmp("osrc-operator-cli");
  ClusterHub hub(tmp);

  RunResult added = Operator(hub, {"add", "ana", "--role", "admin"}, "correct horse\n");
  ASSERT_TRUE(added.ok()) << added.Describe();
  EXPECT_EQ(added.out, "added operator ana (admin)\n");
  ASSERT_TRUE(Operator(hub, {"add", "ben", "--role", "viewer"}, "battery staple\n").ok());

  RunResult short_password = Operator(hub, {"add", "carl", "--role", "viewer"}, "short\n");
  EXPECT_EQ(short_password.exit_code, 1) << short_password.Describe();
  EXPECT_TRUE(Contains(short_password.err, "password too short")) << short_password.err;
  RunResult no_password = Operator(hub, {"add", "carl", "--role", "viewer"}, "");
  EXPECT_EQ(no_password.exit_code, 1) << no_password.Describe();
  EXPECT_TRUE(Contains(no_password.err, "no password")) << no_password.err;
  RunResult bad_role = Operator(hub, {"add", "carl", "--role", "root"}, "long enough pw\n");
  EXPECT_EQ(bad_role.exit_code, 1) << bad_role.Describe();
  EXPECT_TRUE(Contains(bad_role.err, "--role")) << bad_role.err;
  RunResult taken = Operator(hub, {"add", "ana", "--role", "viewer"}, "another one pw\n");
  EXPECT_EQ(taken.exit_code, 1) << taken.Describe();

  RunResult list = Operator(hub, {"list"});
  ASSERT_TRUE(list.ok()) << list.Describe();
  std::vector<std::string> lines = SplitLines(list.out);
  ASSERT_EQ(lines.size(), 2u) << list.out;
  EXPECT_EQ(lines[0].rfind("ana admin created 20", 0), 0u) << list.out;
  EXPECT_EQ(lines[1].rfind("ben viewer created 20", 0), 0u) << list.out;
  EXPECT_FALSE(Contains(ReadFile(hub.Path("operators.json")), "correct horse"));

  ASSERT_TRUE(Operator(hub, {"remove", "ben"}).ok());
  EXPECT_EQ(SplitLines(Operator(hub, {"list"}).out).size(), 1u);
  RunResult gone = Operator(hub, {"remove", "ben"});
  EXPECT_EQ(gone.exit_code, 1) << gone.Describe();
  EXPECT_TRUE(Contains(gone.err, "no such operator")) << gone.err;

  std::string audit = hub.Cli({"audit"});
  EXPECT_TRUE(Contains(audit, "operator add")) << audit;
  EXPECT_TRUE(Contains(audit, "operator remove")) << audit;
}

}  // namespace
}  // namespace osrc::testing

// --version of every program: one line on stdout, exit 0, naming the program, the CMake project
// version and the git commit the binary was built from (the checkout's HEAD, since `make test`
// builds before it tests).
#include <gtest/gtest.h>

#include <string>

#include "tests/support/cluster.h"
#include "tests/support/process.h"

namespace osrc::testing {
namespace {

// The checkout's HEAD commit, or "" when the sources are not a git checkout.
std::string HeadCommit() {
  RunResult r = RunProcess({"git", "-C", OSRC_SOURCE_DIR, "rev-parse", "HEAD"});
  return r.ok() ? LastLine(r.out) : "";
}

class VersionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(VersionTest, PrintsProgramVersionAndCommit) {
  const std::string& program = GetParam();
  RunResult r = RunProcess({BinPath(program), "--version"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::string head = program + " " + OSRC_PROJECT_VERSION + " (commit ";
  ASSERT_EQ(r.out.substr(0, head.size()), head) << r.Describe();
  ASSERT_TRUE(r.out.ends_with(")\n") && SplitLines(r.out).size() == 1) << r.Describe();
  std::string commit = r.out.substr(head.size(), r.out.size() - head.size() - 2);
  if (commit.ends_with("-dirty")) commit.resize(commit.size() - 6);
  std::string head_commit = HeadCommit();
  if (head_commit.empty()) {
    EXPECT_EQ(commit, "unknown");
  } else {
    EXPECT_GE(commit.size(), 7u) << r.out;
    EXPECT_TRUE(head_commit.starts_with(commit)) << r.out << "HEAD is " << head_commit;
  }
}

INSTANTIATE_TEST_SUITE_P(Programs, VersionTest,
                         ::testing::Values("osrc-node", "osrc-hub", "osrc-gen", "osrc-faultproxy"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::erase(name, '-');
                           return name;
                         });

}  // namespace
}  // namespace osrc::testing

// Tests of hub/audit.h: entries chain by hash, and verify names the first entry altered, removed,
// reordered or replaced.
#include "hub/audit.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.h"

namespace osrc::hub {
namespace {

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::trunc);
  for (const std::string& line : lines) out << line << "\n";
}

class AuditTest : public ::testing::Test {
 protected:
  AuditTest() : dir_("osrc-audit-test"), path_(dir_.Path("audit.log")) {
    for (const char* action : {"export", "report", "correction", "reference import", "backup"}) {
      EXPECT_TRUE(AppendAudit(dir_.path(), "cli:tester", action, "target of " + std::string(action),
                              "case 17")
                      .ok());
    }
  }
  std::string Verify() {
    size_t entries = 0;
    Status status = VerifyAudit(dir_.path(), &entries);
    return status.ok() ? "intact " + std::to_string(entries) : status.ToString();
  }

  testing::TempDir dir_;
  std::string path_;
};

TEST_F(AuditTest, EntriesChainAndReadBack) {
  std::vector<AuditEntry> entries;
  ASSERT_TRUE(ReadAudit(dir_.path(), &entries).ok());
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[2].seq, 3u);
  EXPECT_EQ(entries[2].action, "correction");
  EXPECT_EQ(entries[2].actor, "cli:tester");
  EXPECT_EQ(entries[2].reason, "case 17");
  EXPECT_EQ(entries[2].prev, entries[1].hash);
  EXPECT_EQ(entries[0].prev, "");
  EXPECT_EQ(entries[0].hash.size(), 64u);
  EXPECT_EQ(Verify(), "intact 5");
}

TEST_F(AuditTest, AnAlteredEntryIsNamed) {
  std::vector<std::string> lines = ReadLines(path_);
  size_t at = lines[1].find("target of report");
  lines[1].replace(at, 16, "target of nothing");
  WriteLines(path_, lines);
  EXPECT_EQ(Verify(), "audit.log:2 (entry 2): altered: its hash does not match its content");
}

TEST_F(AuditTest, ARemovedEntryIsNamed) {
  std::vector<std::string> lines = ReadLines(path_);
  lines.erase(lines.begin() + 2);
  WriteLines(path_, lines);
  EXPECT_EQ(Verify(), "audit.log:3 (entry 4): entry 3 before it was removed");
}

TEST_F(AuditTest, SwappedEntriesAreNamed) {
  std::vector<std::string> lines = ReadLines(path_);
  std::swap(lines[1], lines[3]);
  WriteLines(path_, lines);
  EXPECT_EQ(Verify(), "audit.log:2 (entry 4): out of order: entry 2 should come here");
}

TEST_F(AuditTest, AnEntryRewrittenWithAFreshHashBreaksTheNextLink) {
  std::vector<AuditEntry> entries;
  ASSERT_TRUE(ReadAudit(dir_.path(), &entries).ok());
  std::vector<std::string> lines = ReadLines(path_);
  entries[1].target = "something else";
  entries[1].hash = AuditHash(entries[1]);  // consistent in itself ...
  lines[1] = AuditLine(entries[1]);
  WriteLines(path_, lines);
  // ... but entry 3 still names the hash entry 2 had.
  EXPECT_EQ(Verify(),
            "audit.log:3 (entry 3): does not follow the entry before it: one of them was replaced");
}

TEST_F(AuditTest, BackupsCarryTheLog) {
  testing::TempDir backup("osrc-audit-backup");
  ASSERT_TRUE(CopyAuditLog(dir_.path(), backup.path()).ok());
  EXPECT_EQ(ReadLines(backup.Path("audit.log")), ReadLines(path_));
}

}  // namespace
}  // namespace osrc::hub

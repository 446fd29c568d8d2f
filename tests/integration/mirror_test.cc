// Tests of `osrc-hub mirror` against a real PostgreSQL 15 server started for each test: every
// table equals the hub's export (row count and a checksum of every row) after a first copy, a
// central correction, a delete, a mirror killed mid-copy and restarted, PostgreSQL going down
// under a following mirror, a running hub's merges after the first run (which starts the hub's
// feed), and a hub restored from a backup (copied again); personal fields are left out by
// default, pseudonymised by a stable keyed hash or included as hub.toml [mirror] pii says.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "config/schema_loader.h"
#include "tests/support/cluster.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

// The hub's value of a field as PostgreSQL prints it in RowText below.
std::string ExpectedText(const nlohmann::json& value) {
  if (value.is_null()) return "\\N";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();  // numbers and booleans print alike
}

// How PostgreSQL prints column `name` of type `type` for the comparison.
std::string ColumnText(const std::string& name, const std::string& type) {
  std::string column = "\"" + name + "\"";
  if (type == "timestamp with time zone") {
    column = "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";
  } else {
    column += "::text";
  }
  return "coalesce(" + column + ", '\\N')";
}

struct TableSums {
  std::string count;
  std::string md5;
  friend bool operator==(const TableSums&, const TableSums&) = default;
};

std::ostream& operator<<(std::ostream& out, const TableSums& sums) {
  return out << sums.count << " rows, md5 " << sums.md5;
}

class MirrorTest : public ::testing::Test {
 protected:
  MirrorTest() : tmp_("osrc-mirror-test"), hub_(tmp_) {}

  void SetUp() override { hub_.Start(); }
  void TearDown() override {
    if (hub_.running()) hub_.Stop();
  }

  // Site MAS with `participants` generated participants (and their services, referrals, ...)
  // synced to the hub.
  void SyncSite(int participants) {
    ClusterNode node(tmp_, "MAS", hub_);
    node.Import(GenerateSample(
        tmp_, "MAS", {"--participants", std::to_string(participants), "--seed", "7"}, "mas.jsonl"));
    node.MustSync();
  }

  std::vector<std::string> MirrorArgs(std::vector<std::string> extra) const {
    std::vector<std::string> args =
        BinArgs("osrc-hub", {"mirror", "--data", hub_.dir(), "--postgres", pg_.conninfo()});
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  RunResult MirrorOnce() { return RunProcess(MirrorArgs({"--once"})); }

  // The hub's records of `collection` as JSON Lines, personal fields included.
  std::vector<std::string> Export(const std::string& collection) const {
    return SplitLines(hub_.Cli({"export", "--collection", collection, "--include-personal"}));
  }

  // The mirrored columns of `collection` (not id), in order, with their types.
  std::vector<std::pair<std::string, std::string>> Columns(const std::string& collection) const {
    std::vector<std::pair<std::string, std::string>> columns;
    for (const auto& row : pg_.Query(
             "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 "
             "AND column_name <> 'id' ORDER BY ordinal_position",
             {collection})) {
      columns.emplace_back(row[0], row[1]);
    }
    return columns;
  }

  // Count and md5 of the rows of `collection` in PostgreSQL, each row its id and columns.
  TableSums Mirrored(const std::string& collection) const {
    std::string row = "id";
    for (const auto& [name, type] : Columns(collection))
      row += " || E'\\t' || " + ColumnText(name, type);
    Rows rows = pg_.Query("SELECT count(*)::text, md5(coalesce(string_agg(" + row +
                          ", E'\\n' ORDER BY id COLLATE \"C\"), '')) FROM \"" + collection + "\"");
    return {rows.at(0).at(0), rows.at(0).at(1)};
  }

  // The same computed from the hub's export of `collection`, for the mirror's columns.
  TableSums Expected(const std::string& collection) const {
    std::vector<std::pair<std::string, std::string>> columns = Columns(collection);
    std::vector<std::string> lines;
    for (const std::string& line : Export(collection)) {
      nlohmann::json record = nlohmann::json::parse(line);
      std::string text = record.at("id");
      for (const auto& [name, type] : columns) {
        text += "\t" + ExpectedText(record["fields"].value(name, nlohmann::json()));
      }
      lines.push_back(std::move(text));
    }
    std::sort(lines.begin(), lines.end());
    std::string all;
    for (size_t i = 0; i < lines.size(); ++i) all += (i == 0 ? "" : "\n") + lines[i];
    return {std::to_string(lines.size()), pg_.Query("SELECT md5($1)", {all}).at(0).at(0)};
  }

  // Every collection of the schema: PostgreSQL's table equals the hub's records.
  void ExpectEqualToHub() const {
    for (const auto& [name, spec] : config::DefaultSchema().collections()) {
      EXPECT_EQ(Mirrored(name), Expected(name)) << "table " << name;
    }
  }

  uint64_t Cursor() const {
    return std::stoull(pg_.Query("SELECT feed_seq FROM osrc_mirror_cursor").at(0).at(0));
  }

  TempDir tmp_;
  ClusterHub hub_;
  PostgresServer pg_;
};

TEST_F(MirrorTest, FirstCopyEqualsTheHubWithoutPersonalColumns) {
  SyncSite(30);
  RunResult run = MirrorOnce();
  ASSERT_TRUE(run.ok()) << run.Describe();
  ExpectEqualToHub();
  EXPECT_GT(std::stoi(Mirrored("participants").count), 0);
  EXPECT_GT(std::stoi(Mirrored("countries").count), 0);  // reference tables too
  // Every non-personal field is a column of its type; no personal one is.
  for (const auto& [name, spec] : config::DefaultSchema().collections()) {
    std::set<std::string> columns;
    for (const auto& [column, type] : Columns(name)) columns.insert(column);
    for (const auto& [field, f] : spec.fields) {
      EXPECT_EQ(columns.count(field), f.pii ? 0u : 1u) << name << "." << field;
    }
  }
  auto types = Columns("participants");
  EXPECT_NE(std::find(types.begin(), types.end(),
                      std::pair<std::string, std::string>("consent", "boolean")),
            types.end());
  EXPECT_NE(
      std::find(types.begin(), types.end(),
                std::pair<std::string, std::string>("registered_at", "timestamp with time zone")),
      types.end());
  // A second pass finds nothing new and changes nothing.
  TableSums before = Mirrored("participants");
  run = MirrorOnce();
  ASSERT_TRUE(run.ok()) << run.Describe();
  EXPECT_NE(run.out.find("mirrored 0 records"), std::string::npos) << run.out;
  EXPECT_EQ(Mirrored("participants"), before);
  // The run is in the audit trail, without a password.
  std::string audit = hub_.Cli({"audit"});
  EXPECT_NE(audit.find("mirror"), std::string::npos) << audit;
}

TEST_F(MirrorTest, CorrectionAndDeleteAreMirroredAndAMissedDeleteIsDetected) {
  SyncSite(20);
  ASSERT_TRUE(MirrorOnce().ok());
  std::vector<std::string> services = Export("services");
  ASSERT_GE(services.size(), 2u);
  std::string service = nlohmann::json::parse(services[0]).at("id");
  std::string other = nlohmann::json::parse(services[1]).at("id");
  // A correction.
  RunResult put =
      hub_.Run({"put", "services", service, "--json", R"({"staff": "Corrected Staff"})"});
  ASSERT_TRUE(put.ok()) << put.Describe();
  ASSERT_TRUE(MirrorOnce().ok());
  EXPECT_EQ(pg_.Query("SELECT staff FROM services WHERE id = $1", {service}).at(0).at(0),
            "Corrected Staff");
  ExpectEqualToHub();
  // A delete.
  RunResult del = hub_.Run({"delete", "services", service});
  ASSERT_TRUE(del.ok()) << del.Describe();
  ASSERT_TRUE(MirrorOnce().ok());
  EXPECT_TRUE(pg_.Query("SELECT 1 FROM services WHERE id = $1", {service}).empty());
  ExpectEqualToHub();
  // The comparison sees a delete the mirror has not applied yet.
  ASSERT_TRUE(hub_.Run({"delete", "services", other}).ok());
  EXPECT_NE(Mirrored("services"), Expected("services"));
  ASSERT_TRUE(MirrorOnce().ok());
  EXPECT_EQ(Mirrored("services"), Expected("services"));
}

// The running hub kept no feed until the mirror's first run started it: what it merges after,
// through the same process, is mirrored too.
TEST_F(MirrorTest, MergesOfARunningHubAfterTheFirstMirrorRunAreMirrored) {
  SyncSite(20);
  ASSERT_TRUE(MirrorOnce().ok());
  ExpectEqualToHub();
  ClusterNode ant(tmp_, "ANT", hub_);
  ant.Import(GenerateSample(tmp_, "ANT", {"--participants", "15", "--seed", "8"}, "ant.jsonl"));
  ant.MustSync();
  ASSERT_TRUE(hub_.running()) << "the same hub process merged them";
  ASSERT_TRUE(MirrorOnce().ok());
  EXPECT_GE(std::stoi(Mirrored("participants").count), 35);
  ExpectEqualToHub();
}

TEST_F(MirrorTest, KilledMirrorResumesWithoutGapsOrDuplicates) {
  SyncSite(1500);
  // The 11th batch of 50 is held open (its rows written, not committed) until the kill.
  ProcessOptions hold;
  hold.env = {{"OSRC_MIRROR_HOLD_BATCH", "11"}};
  Process mirror(MirrorArgs({"--batch", "50"}), hold);
  ASSERT_TRUE(PollUntil(DeadlineIn(std::chrono::seconds(120)), [&] {
    return mirror.stderr_text().find("holding a batch open") != std::string::npos;
  })) << mirror.stderr_text();
  KillProcess(mirror, "osrc-hub mirror");
  uint64_t at_kill = Cursor();
  EXPECT_EQ(at_kill, 500u) << "ten batches of 50 committed, the eleventh not";
  EXPECT_NE(Mirrored("services"), Expected("services")) << "the copy was not cut short";
  RunResult run = MirrorOnce();
  ASSERT_TRUE(run.ok()) << run.Describe();
  EXPECT_GT(Cursor(), at_kill);
  ExpectEqualToHub();
}

TEST_F(MirrorTest, FollowingMirrorWaitsOutPostgresAndCatchesUp) {
  SyncSite(10);
  Process mirror(MirrorArgs({}));
  auto equal = [&] {
    try {
      return Mirrored("services") == Expected("services") &&
             Mirrored("participants") == Expected("participants");
    } catch (const std::exception&) {
      return false;
    }
  };
  ASSERT_TRUE(PollUntil(DeadlineIn(std::chrono::seconds(60)), equal));
  pg_.Stop();
  std::string service = nlohmann::json::parse(Export("services")[0]).at("id");
  ASSERT_TRUE(hub_.Run({"delete", "services", service}).ok());
  ASSERT_TRUE(PollUntil(DeadlineIn(std::chrono::seconds(30)), [&] {
    return mirror.stderr_text().find("retrying") != std::string::npos;
  })) << mirror.stderr_text();
  EXPECT_FALSE(mirror.exit_status().has_value()) << "the mirror gave up";
  pg_.Start();
  ASSERT_TRUE(PollUntil(DeadlineIn(std::chrono::seconds(60)), equal)) << mirror.stderr_text();
  ExpectEqualToHub();
  mirror.Kill(SIGTERM);
  std::optional<ExitStatus> status = mirror.WaitFor(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->success()) << status->ToString() << "\n" << mirror.stderr_text();
}

TEST_F(MirrorTest, PseudonymisedFieldsAreStableKeyedHashes) {
  WriteFile(hub_.Path("hub.toml"),
            ReadFile(hub_.Path("hub.toml")) + "\n[mirror]\npii = \"pseudonymise\"\n");
  SyncSite(40);
  RunResult run = MirrorOnce();
  ASSERT_TRUE(run.ok()) << run.Describe();
  struct stat key {};
  ASSERT_EQ(stat(hub_.Path("mirror.key").c_str(), &key), 0);
  EXPECT_EQ(key.st_mode & 0777, 0600u);
  EXPECT_EQ(key.st_size, 32);
  // Equal names hash alike, different ones differ; no name is readable.
  std::map<std::string, std::string> name_of_id;
  for (const std::string& line : Export("participants")) {
    nlohmann::json record = nlohmann::json::parse(line);
    name_of_id[record.at("id")] = record["fields"].at("family_name");
  }
  std::map<std::string, std::set<std::string>> hashes_of_name;
  std::set<std::string> all_hashes;
  for (const auto& row : pg_.Query("SELECT id, family_name FROM participants")) {
    ASSERT_EQ(row[1].size(), 64u) << row[1];
    EXPECT_EQ(row[1].find_first_not_of("0123456789abcdef"), std::string::npos);
    hashes_of_name[name_of_id.at(row[0])].insert(row[1]);
    all_hashes.insert(row[1]);
  }
  for (const auto& [name, hashes] : hashes_of_name) EXPECT_EQ(hashes.size(), 1u) << name;
  EXPECT_EQ(all_hashes.size(), hashes_of_name.size());
  // Non-personal columns are still the hub's values.
  EXPECT_EQ(Mirrored("services").count, Expected("services").count);
}

TEST_F(MirrorTest, IncludedPersonalFieldsAreTheHubsValues) {
  WriteFile(hub_.Path("hub.toml"),
            ReadFile(hub_.Path("hub.toml")) + "\n[mirror]\npii = \"include\"\n");
  SyncSite(10);
  ASSERT_TRUE(MirrorOnce().ok());
  std::set<std::string> columns;
  for (const auto& [column, type] : Columns("participants")) columns.insert(column);
  EXPECT_EQ(columns.count("family_name"), 1u);
  ExpectEqualToHub();  // family names and birth dates compared as they are
}

TEST_F(MirrorTest, HubRestoredFromABackupIsCopiedAgainInFull) {
  SyncSite(15);
  ASSERT_TRUE(MirrorOnce().ok());
  hub_.Cli({"backup", "--to", tmp_.Path("backup")});
  // After the backup: a service deleted and a correction, both mirrored.
  std::vector<std::string> services = Export("services");
  ASSERT_GE(services.size(), 2u);
  std::string deleted = nlohmann::json::parse(services[0]).at("id");
  std::string corrected = nlohmann::json::parse(services[1]).at("id");
  ASSERT_TRUE(hub_.Run({"delete", "services", deleted}).ok());
  ASSERT_TRUE(
      hub_.Run({"put", "services", corrected, "--json", R"({"staff": "After Backup"})"}).ok());
  ASSERT_TRUE(MirrorOnce().ok());
  // The hub goes back to the backup, under a new epoch: the mirror must follow it back.
  hub_.Stop();
  hub_.Cli({"restore", "--from", tmp_.Path("backup")});
  hub_.Start();
  RunResult run = MirrorOnce();
  ASSERT_TRUE(run.ok()) << run.Describe();
  EXPECT_NE(run.err.find("copying everything again"), std::string::npos) << run.err;
  EXPECT_EQ(pg_.Query("SELECT count(*) FROM services WHERE id = $1", {deleted}).at(0).at(0), "1");
  EXPECT_NE(pg_.Query("SELECT staff FROM services WHERE id = $1", {corrected}).at(0).at(0),
            "After Backup");
  ExpectEqualToHub();
  // Once in step with the new epoch, the next run copies nothing again.
  run = MirrorOnce();
  ASSERT_TRUE(run.ok()) << run.Describe();
  EXPECT_EQ(run.err.find("copying everything again"), std::string::npos) << run.err;
  EXPECT_NE(run.out.find("mirrored 0 records"), std::string::npos) << run.out;
}

TEST_F(MirrorTest, ChangedPersonalFieldsModeIsRefusedUntilTheTablesAreDropped) {
  SyncSite(5);
  ASSERT_TRUE(MirrorOnce().ok());
  TableSums before = Mirrored("participants");
  WriteFile(hub_.Path("hub.toml"),
            ReadFile(hub_.Path("hub.toml")) + "\n[mirror]\npii = \"include\"\n");
  RunResult run = MirrorOnce();
  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  EXPECT_NE(run.err.find("mirrored with personal fields: omit"), std::string::npos) << run.err;
  EXPECT_EQ(Mirrored("participants"), before);  // nothing half-changed: no new column either
  std::set<std::string> columns;
  for (const auto& [column, type] : Columns("participants")) columns.insert(column);
  EXPECT_EQ(columns.count("family_name"), 0u);
  // Dropped as the message says, the next run copies everything with the new mode.
  pg_.Query("DROP TABLE participants, services, osrc_mirror_cursor");
  run = MirrorOnce();
  ASSERT_TRUE(run.ok()) << run.Describe();
  ExpectEqualToHub();
}

TEST_F(MirrorTest, SecondMirrorOfTheSameDatabaseIsRefused) {
  SyncSite(5);
  Process first(MirrorArgs({}));
  ASSERT_TRUE(PollUntil(DeadlineIn(std::chrono::seconds(60)), [&] {
    return first.stderr_text().find("mirroring to") != std::string::npos;
  })) << first.stderr_text();
  RunResult second = MirrorOnce();
  EXPECT_EQ(second.exit_code, 1) << second.Describe();
  EXPECT_NE(second.err.find("another osrc-hub mirror is writing to this database"),
            std::string::npos)
      << second.err;
  first.Kill(SIGTERM);
  ASSERT_TRUE(first.WaitFor(std::chrono::seconds(30)).has_value());
  // Once the first has gone, its lock has too.
  RunResult again = MirrorOnce();
  ASSERT_TRUE(again.ok()) << again.Describe();
  ExpectEqualToHub();
}

TEST_F(MirrorTest, UnreachablePostgresFailsOnceWithItsReason) {
  pg_.Stop();
  RunResult run = MirrorOnce();
  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  EXPECT_NE(run.err.find("cannot connect to PostgreSQL"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace osrc::testing

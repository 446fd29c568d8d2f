// Spreadsheets through the real programs: CSV export and import round-trip byte for byte, JSON
// Lines → CSV → JSON Lines keeps every record, the shipped sample CSVs import in order, and a bad
// file is refused with every bad line named and nothing written.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/cluster.h"
#include "tests/support/node_cli.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

constexpr const char* kSiteCollections[] = {"participants", "services", "referrals", "trainings",
                                            "attendance"};

class CsvTest : public ::testing::Test {
 protected:
  CsvTest() : tmp_("osrc-csv-test"), a_(tmp_.Path("a")), b_(tmp_.Path("b")) {}
  void SetUp() override {
    ASSERT_TRUE(a_.Init("MAS").ok());
    ASSERT_TRUE(b_.Init("MAS").ok());
  }
  static std::string Ok(const RunResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return r.out;
  }
  // `node` exports `collection` as CSV into `file`.
  void ExportCsv(const NodeCli& node, const std::string& collection, const std::string& file) {
    ProcessOptions options;
    options.stdout_file = file;
    RunResult r = node.RunWithOptions(
        "export", {"--collection", collection, "--format", "csv", "--include-personal"}, options);
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
  }

  TempDir tmp_;
  NodeCli a_;
  NodeCli b_;
};

TEST_F(CsvTest, TenThousandParticipantsRoundTripByteIdentical) {
  std::string jsonl = tmp_.Path("p.jsonl");
  Ok(RunGen({"--site", "MAS", "--participants", "10000", "--services-per", "0", "--out", jsonl}));
  Ok(a_.Import(jsonl));
  ExportCsv(a_, "participants", tmp_.Path("a.csv"));
  std::string csv = ReadFile(tmp_.Path("a.csv"));
  EXPECT_EQ(SplitLines(csv).size(), 10001u);
  EXPECT_TRUE(csv.starts_with("id,site,family_name,given_name,sex,birth_date,"))
      << csv.substr(0, 200);

  std::string out = Ok(b_.Run("import", {tmp_.Path("a.csv"), "--collection", "participants"}));
  EXPECT_NE(out.find("imported 10000 records"), std::string::npos) << out;
  ExportCsv(b_, "participants", tmp_.Path("b.csv"));
  RunResult cmp = RunProcess({"cmp", tmp_.Path("a.csv"), tmp_.Path("b.csv")});
  EXPECT_EQ(cmp.exit_code, 0) << cmp.Describe();
  EXPECT_TRUE(Ok(b_.Export("participants")) == ReadFile(jsonl))
      << "JSON export differs from the generated file";
}

TEST_F(CsvTest, JsonToCsvToJsonKeepsEveryRecordOfEveryCollection) {
  std::string jsonl = tmp_.Path("all.jsonl");
  Ok(RunGen({"--site", "MAS", "--participants", "300", "--services-per", "2", "--referrals-per",
             "1", "--trainings", "10", "--out", jsonl}));
  Ok(a_.Import(jsonl));
  for (const char* collection : kSiteCollections) {
    SCOPED_TRACE(collection);
    std::string file = tmp_.Path(std::string(collection) + ".csv");
    ExportCsv(a_, collection, file);
    // The .csv name selects CSV.
    Ok(b_.Run("import", {file, "--collection", collection}));
    ExportCsv(b_, collection, file + ".again");
    EXPECT_EQ(ReadFile(file + ".again"), ReadFile(file));
  }
  std::string a_export = Ok(a_.Export());
  EXPECT_GT(SplitLines(a_export).size(), 1000u);
  EXPECT_TRUE(Ok(b_.Export()) == a_export) << "records differ after JSON -> CSV -> JSON";
}

TEST_F(CsvTest, ShippedSamplesImportInOrderIntoAFreshNode) {
  for (const char* collection : kSiteCollections) {
    std::string file = SourcePath("config/examples/" + std::string(collection) + ".csv");
    RunResult r = a_.Run("import", {file, "--collection", collection});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
  }
  nlohmann::json status = a_.Status();
  EXPECT_EQ(NodeCli::Count(status, "participants"), 5u);
  EXPECT_EQ(NodeCli::Count(status, "services"), 5u);
  EXPECT_EQ(NodeCli::Count(status, "referrals"), 3u);
  EXPECT_EQ(NodeCli::Count(status, "trainings"), 2u);
  EXPECT_EQ(NodeCli::Count(status, "attendance"), 5u);
  std::string ana = Ok(a_.Get("participants", "MAS-P0000005"));
  EXPECT_NE(ana.find(R"("occupation":"sales clerk \"pasalubong\" shop")"), std::string::npos)
      << ana;
}

TEST_F(CsvTest, ABadFileIsRefusedWithEveryBadLineNamedAndNothingWritten) {
  std::string file = tmp_.Path("people.csv");
  WriteFile(file,
            "id,site,family_name,given_name,sex,consent\r\n"
            "MAS-P1,MAS,Cruz,Ana,F,true\r\n"
            "MAS-P2,MAS,Reyes,Ben,X,true\r\n"
            "MAS-P3,MAS,,Cora,F,true\r\n"
            "MAS-P4,MAS,Santos,Dan,M,yes\r\n");
  uint64_t head = a_.LogHead();
  RunResult r = a_.Run("import", {file, "--collection", "participants"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "osrc-node: " + file +
                ": line 3, column 5 (sex): participants/MAS-P2: field \"sex\": \"X\" is not one of "
                "F, M\n"
                "osrc-node: " +
                file +
                ": line 4, column 3 (family_name): participants/MAS-P3: field \"family_name\": "
                "required field of participants is missing\n"
                "osrc-node: " +
                file +
                ": line 5, column 6 (consent): participants/MAS-P4: field \"consent\": expected "
                "true or false, not \"yes\"\n"
                "osrc-node: 3 bad lines in " +
                file + "; nothing imported\n");
  EXPECT_EQ(a_.LogHead(), head);
  EXPECT_EQ(a_.Count("participants"), 0u);
}

TEST_F(CsvTest, CsvNeedsACollectionAndAnEmptyFileNeedsAllowEmpty) {
  RunResult r = a_.Run("export", {"--format", "csv"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "osrc-node: --format csv: a CSV file holds one collection: name it with "
            "--collection\n");
  std::string file = tmp_.Path("people.csv");
  WriteFile(file, "id,site\n");
  r = a_.Run("import", {file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "osrc-node: " + file +
                       ": a CSV file holds one collection: name it with --collection\n");
  r = a_.Run("import", {file, "--collection", "participants"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no records (give --allow-empty"), std::string::npos) << r.Describe();
  r = a_.Run("import", {file, "--collection", "participants", "--allow-empty"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  // CSV on standard input, selected by --format.
  r = a_.Run("import", {"-", "--format", "csv", "--collection", "trainings"},
             "id,course,start_date\nMAS-T1,fin_lit_basic,2026-02-20\n");
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(
      Ok(a_.Export("trainings")),
      R"({"collection":"trainings","id":"MAS-T1","fields":{"course":"fin_lit_basic","start_date":"2026-02-20"}})"
      "\n");
}

TEST(HubCsvTest, RefImportAndSiteExportTakeCsv) {
  TempDir tmp("osrc-hub-csv-test");
  ClusterHub hub(tmp);
  std::string file = tmp.Path("courses.csv");
  WriteFile(file,
            "id,name,hours,topic\n"
            "seafarer_safety,\"Safety at Sea, Basic\",16,safe_migration\n"
            "bad_hours,Budgeting,eight,financial_literacy\n");
  RunResult r = hub.Run({"ref", "import", "courses", file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "osrc-hub: " + file +
                       ": line 3, column 3 (hours): courses/bad_hours: field \"hours\": expected "
                       "an integer, not \"eight\"\n"
                       "osrc-hub: 1 bad line in " +
                       file + "; nothing imported\n");
  WriteFile(file,
            "id,name,hours,topic\n"
            "seafarer_safety,\"Safety at Sea, Basic\",16,safe_migration\n");
  EXPECT_NE(hub.Cli({"ref", "import", "courses", file}).find("imported 1 courses records"),
            std::string::npos);
  EXPECT_NE(hub.Cli({"export", "--collection", "courses", "--format", "csv"})
                .find("\r\nseafarer_safety,\"Safety at Sea, Basic\",safe_migration,16\r\n"),
            std::string::npos);

  ClusterNode mas(tmp, "MAS", hub);  // central writes need the sites enrolled
  ClusterNode ant(tmp, "ANT", hub);
  hub.Cli({"put", "participants", "MAS-P1", "--json",
           R"({"site":"MAS","family_name":"Cruz","given_name":"Ana","consent":true})"});
  hub.Cli({"put", "participants", "ANT-P1", "--json",
           R"({"site":"ANT","family_name":"Reyes","given_name":"Ben","consent":true})"});
  std::string csv = hub.Cli({"export", "--site", "MAS", "--collection", "participants", "--format",
                             "csv", "--include-personal"});
  EXPECT_EQ(SplitLines(csv).size(), 2u) << csv;
  EXPECT_NE(csv.find("\r\nMAS-P1,MAS,Cruz,Ana,"), std::string::npos) << csv;
  r = hub.Run({"export", "--site", "MAS", "--format", "csv"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("name it with --collection"), std::string::npos) << r.Describe();
}

}  // namespace
}  // namespace osrc::testing

// Tests of the osrc-node command line, run as a real process against real
// data folders: init, put/get/delete, import/export, status, and how bad
// input is rejected (exit non-zero, one line on stderr naming what and where,
// nothing written).
#include "tests/support/node_cli.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

using nlohmann::json;

constexpr char kAna[] =
    R"({"site":"MAS","family_name":"Cruz","given_name":"Ana","consent":true,"sex":"F"})";
constexpr char kBen[] =
    R"({"site":"MAS","family_name":"Reyes","given_name":"Ben","consent":false,"sex":"M"})";
constexpr char kService[] =
    R"({"participant_id":"MAS-P0000001","service_type":"referral","date":"2025-01-31"})";

unsigned ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

bool IsZ85Key(std::string_view key) {
  static constexpr std::string_view kZ85 =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  return key.size() == 40 && key.find_first_not_of(kZ85) == std::string_view::npos;
}

// An error report: exit non-zero and exactly one line on stderr, from osrc-node.
::testing::AssertionResult FailedWithOneLine(const RunResult& r) {
  if (r.exit_code <= 0) {
    return ::testing::AssertionFailure() << "expected a non-zero exit\n" << r.Describe();
  }
  if (r.err.rfind("osrc-node: ", 0) != 0 || r.err.back() != '\n' ||
      std::count(r.err.begin(), r.err.end(), '\n') != 1) {
    return ::testing::AssertionFailure() << "expected one \"osrc-node: \" line on stderr\n"
                                         << r.Describe();
  }
  return ::testing::AssertionSuccess();
}

// A refused import: exit 1, each error on a line of its own, then the summary line.
::testing::AssertionResult FailedWithErrorsThenSummary(const RunResult& r, size_t errors) {
  std::vector<std::string> lines = SplitLines(r.err);
  bool shaped =
      r.exit_code == 1 && lines.size() == errors + 1 &&
      std::all_of(lines.begin(), lines.end(),
                  [](const std::string& line) { return line.starts_with("osrc-node: "); }) &&
      lines.back().ends_with("; nothing imported");
  if (shaped) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected exit 1, " << errors << " error lines and a summary\n"
         << r.Describe();
}

::testing::AssertionResult Contains(const std::string& text, std::string_view part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in: " << text;
}

// (collection, id) of each line of an export.
std::vector<std::pair<std::string, std::string>> Keys(const std::string& jsonl) {
  std::vector<std::pair<std::string, std::string>> keys;
  for (const std::string& line : SplitLines(jsonl)) {
    json record = json::parse(line);
    keys.emplace_back(record.at("collection").get<std::string>(),
                      record.at("id").get<std::string>());
  }
  return keys;
}

std::string RecordLine(std::string_view collection, std::string_view id, std::string_view fields) {
  return R"({"collection":")" + std::string(collection) + R"(","id":")" + std::string(id) +
         R"(","fields":)" + std::string(fields) + "}";
}

// A data folder for each test, not yet initialised.
class NodeInitTest : public ::testing::Test {
 protected:
  TempDir temp_{"osrc-cli-test"};
  NodeCli node_{temp_.Path("node")};
};

// A data folder for each test, initialised as site MAS.
class NodeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RunResult r = node_.Init("MAS");
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
  }

  // Asserts the command succeeded; returns its stdout.
  static std::string Ok(const RunResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return r.out;
  }

  TempDir temp_{"osrc-cli-test"};
  NodeCli node_{temp_.Path("node")};
};

// --- init -------------------------------------------------------------------

TEST_F(NodeInitTest, InitCreatesPrivateFolderKeysAndPrintsPublicKeyLast) {
  RunResult r = node_.Init("MAS");
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ModeOf(node_.dir()), 0700u);
  EXPECT_EQ(ModeOf(node_.dir() + "/node.key"), 0600u);
  EXPECT_TRUE(std::filesystem::exists(node_.dir() + "/node.pub"));
  EXPECT_TRUE(std::filesystem::exists(node_.dir() + "/node.toml"));
  std::vector<std::string> lines = SplitLines(r.out);
  ASSERT_FALSE(lines.empty());
  const std::string& key = lines.back();
  EXPECT_TRUE(IsZ85Key(key)) << "last line: \"" << key << "\"";
  EXPECT_EQ(ReadFile(node_.dir() + "/node.pub"), key + "\n");
  EXPECT_EQ(r.out.back(), '\n');
  json status = node_.Status();
  EXPECT_EQ(status.at("site"), "MAS");
  EXPECT_EQ(status.at("log_head"), 0);
  // Reference data is loaded.
  EXPECT_GT(NodeCli::Count(status, "countries"), 100u);
  EXPECT_GT(NodeCli::Count(status, "service_types"), 0u);
}

TEST_F(NodeInitTest, InitMakesAnExistingEmptyFolderPrivate) {
  std::filesystem::create_directory(node_.dir());
  ::chmod(node_.dir().c_str(), 0755);
  RunResult r = node_.Init("MAS");
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ModeOf(node_.dir()), 0700u);
}

TEST_F(NodeInitTest, SecondInitIsRefusedAndChangesNothing) {
  RunResult first = node_.Init("MAS");
  ASSERT_EQ(first.exit_code, 0) << first.Describe();
  ASSERT_EQ(node_.Put("participants", "MAS-P0000001", kAna).exit_code, 0);
  std::string key = ReadFile(node_.dir() + "/node.key");
  std::string config = ReadFile(node_.dir() + "/node.toml");

  RunResult second = node_.Init("ANT");
  EXPECT_TRUE(FailedWithOneLine(second));
  EXPECT_TRUE(Contains(second.err, node_.dir()));
  EXPECT_TRUE(Contains(second.err, "refusing"));
  EXPECT_EQ(ReadFile(node_.dir() + "/node.key"), key);
  EXPECT_EQ(ReadFile(node_.dir() + "/node.toml"), config);
  json status = node_.Status();
  EXPECT_EQ(status.at("site"), "MAS");
  EXPECT_EQ(status.at("log_head"), 1);
  EXPECT_EQ(node_.Get("participants", "MAS-P0000001").exit_code, 0);
}

TEST_F(NodeInitTest, InitRefusesFolderHoldingAStore) {
  // A store without node.toml (e.g. an init that died before its last step).
  std::filesystem::create_directory(node_.dir());
  WriteFile(node_.dir() + "/data.mdb", "not empty");
  RunResult r = node_.Init("MAS");
  EXPECT_TRUE(FailedWithOneLine(r));
  EXPECT_TRUE(Contains(r.err, node_.dir()));
  EXPECT_EQ(ReadFile(node_.dir() + "/data.mdb"), "not empty");
}

TEST_F(NodeInitTest, InitRejectsBadSiteCodeAndCreatesNothing) {
  RunResult r = node_.Init("mas");
  EXPECT_TRUE(FailedWithOneLine(r));
  EXPECT_TRUE(Contains(r.err, "--site"));
  EXPECT_FALSE(std::filesystem::exists(node_.dir()));
}

TEST_F(NodeInitTest, InitRejectsBadHubKeyAndCreatesNothing) {
  RunResult r = node_.Init("MAS", {"--hub", "tcp://127.0.0.1:7400", "--hub-key", "short"});
  EXPECT_TRUE(FailedWithOneLine(r));
  EXPECT_TRUE(Contains(r.err, "--hub-key"));
  EXPECT_FALSE(std::filesystem::exists(node_.dir()));
}

TEST_F(NodeInitTest, InitStoresHubEndpoint) {
  RunResult r = node_.Init("ANT", {"--hub", "tcp://127.0.0.1:7400"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  json status = node_.Status();
  EXPECT_EQ(status.at("site"), "ANT");
  EXPECT_EQ(status.at("hub"), "tcp://127.0.0.1:7400");
}

// --- put / get / delete -------------------------------------------------------

TEST_F(NodeCliTest, PutThenGetReturnsTheRecord) {
  Ok(node_.Put("participants", "MAS-P0000001", kAna));
  std::string line = Ok(node_.Get("participants", "MAS-P0000001"));
  ASSERT_EQ(SplitLines(line).size(), 1u) << line;
  EXPECT_EQ(json::parse(line), json::parse(RecordLine("participants", "MAS-P0000001", kAna)));
}

TEST_F(NodeCliTest, PutMergesFieldsIntoExistingRecord) {
  Ok(node_.Put("participants", "MAS-P0000001", kAna));
  Ok(node_.Put("participants", "MAS-P0000001", R"({"province":"Masbate","sex":"M"})"));
  json fields = json::parse(Ok(node_.Get("participants", "MAS-P0000001"))).at("fields");
  json expected = json::parse(kAna);
  expected["province"] = "Masbate";
  expected["sex"] = "M";
  EXPECT_EQ(fields, expected);
}

TEST_F(NodeCliTest, PutNullUnsetsField) {
  Ok(node_.Put("participants", "MAS-P0000001", kAna));
  Ok(node_.Put("participants", "MAS-P0000001", R"({"sex":null})"));
  json fields = json::parse(Ok(node_.Get("participants", "MAS-P0000001"))).at("fields");
  EXPECT_FALSE(fields.contains("sex")) << fields;
  EXPECT_EQ(fields.at("given_name"), "Ana");
  // Export leaves the unset field out too.
  EXPECT_TRUE(Ok(node_.Export("participants")).find("\"sex\"") == std::string::npos);
}

TEST_F(NodeCliTest, PutNullOnRequiredFieldIsRejected) {
  Ok(node_.Put("participants", "MAS-P0000001", kAna));
  uint64_t head = node_.LogHead();
  RunResult r = node_.Put("participants", "MAS-P0000001", R"({"family_name":null})");
  EXPECT_TRUE(FailedWithOneLine(r));
  EXPECT_TRUE(Contains(r.err, "participants/MAS-P0000001"));
  EXPECT_TRUE(Contains(r.err, "field \"family_name\""));
  EXPECT_EQ(node_.LogHead(), head);
  EXPECT_EQ(json::parse(Ok(node_.Get("participants", "MAS-P0000001"))).at("fields"),
            json::parse(kAna));
}

TEST_F(NodeCliTest, PutOfSameValuesChangesNothing) {
  Ok(node_.Put("participants", "MAS-P0000001", kAna));
  uint64_t head = node_.LogHead();
  std::string out = Ok(node_.Put("participants", "MAS-P0000001", kAna));
  EXPECT_TRUE(Contains(out, "unchanged"));
  EXPECT_EQ(node_.LogHead(), head);
}

TEST_F(NodeCliTest, DeleteRemovesRecordAndGetThenReportsNotFound) {
  Ok(node_.Put("participants", "MAS-P0000001", kAna));
  Ok(node_.Delete("participants", "MAS-P0000001"));
  RunResult r = node_.Get("participants", "MAS-P0000001");
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "not found"));
  EXPECT_TRUE(Contains(r.err, "participants/MAS-P0000001"));
  EXPECT_EQ(r.out, "");
}

TEST_F(NodeCliTest, GetOfUnknownRecordExitsOneWithNotFound) {
  RunResult r = node_.Get("participants", "MAS-P0000404");
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(FailedWithOneLine(r));
  EXPECT_TRUE(Contains(r.err, "participants/MAS-P0000404: not found"));
}

TEST_F(NodeCliTest, DeleteOfUnknownRecordFailsAndWritesNothing) {
  uint64_t head = node_.LogHead();
  RunResult r = node_.Delete("participants", "MAS-P0000404");
  EXPECT_TRUE(FailedWithOneLine(r));
  EXPECT_TRUE(Contains(r.err, "participants/MAS-P0000404: not found"));
  EXPECT_EQ(node_.LogHead(), head);
}

TEST_F(NodeCliTest, DeleteOfAReferencedParticipantNeedsCascade) {
  Ok(node_.ImportText(RecordLine("participants", "MAS-P0000001", kAna) + "\n" +
                      RecordLine("participants", "MAS-P0000002", kBen) + "\n" +
                      RecordLine("services", "MAS-S0000001", kService) + "\n" +
                      RecordLine("services", "MAS-S0000002", kService) + "\n"));
  uint64_t head = node_.LogHead();
  RunResult r = node_.Delete("participants", "MAS-P0000001");
  EXPECT_TRUE(FailedWithOneLine(r));
  EXPECT_EQ(
      r.err,
      "osrc-node: participants/MAS-P0000001: referenced by 2 services; delete those first, or "
      "delete with --cascade to delete them too\n");
  EXPECT_EQ(node_.LogHead(), head);
  r = node_.Run("delete", {"participants", "MAS-P0000001", "--cascade"});
  EXPECT_EQ(Ok(r),
            "deleted participants/MAS-P0000001 and 2 records that referenced it: 2 services\n");
  EXPECT_EQ(node_.LogHead(), head + 3);
  EXPECT_EQ(node_.Count("services"), 0u);
  EXPECT_EQ(node_.Count("participants"), 1u);
}

TEST_F(NodeCliTest, PutAfterDeleteDoesNotBringBackOldFields) {
  Ok(node_.Put("participants", "MAS-P0000001", kAna));
  Ok(node_.Delete("participants", "MAS-P0000001"));
  // The deleted record's fields do not count towards the required ones...
  RunResult partial = node_.Put("participants", "MAS-P0000001", R"({"province":"Masbate"})");
  EXPECT_TRUE(FailedWithOneLine(partial));
  // ...nor come back when the record is written again.
  Ok(node_.Put("participants", "MAS-P0000001", kBen));
  EXPECT_EQ(json::parse(Ok(node_.Get("participants", "MAS-P0000001"))).at("fields"),
            json::parse(kBen));
}

TEST_F(NodeCliTest, GetReadsHubReferenceData) {
  json record = json::parse(Ok(node_.Get("countries", "PH")));
  EXPECT_EQ(record.at("fields").at("name"), "Philippines");
}

// --- status -------------------------------------------------------------------

TEST_F(NodeCliTest, StatusJsonCountsRecordsAndChanges) {
  json fresh = node_.Status();
  EXPECT_EQ(fresh.at("site"), "MAS");
  EXPECT_EQ(fresh.at("log_head"), 0);
  EXPECT_EQ(fresh.at("acked"), 0);
  EXPECT_EQ(fresh.at("pending"), 0);
  EXPECT_EQ(fresh.at("conflicts"), 0);
  EXPECT_EQ(NodeCli::Count(fresh, "participants"), 0u);

  Ok(node_.Put("participants", "MAS-P0000001", kAna));
  Ok(node_.Put("participants", "MAS-P0000002", kBen));
  Ok(node_.Put("services", "MAS-S0000001", kService));
  json status = node_.Status();
  EXPECT_EQ(NodeCli::Count(status, "participants"), 2u);
  EXPECT_EQ(NodeCli::Count(status, "services"), 1u);
  EXPECT_EQ(status.at("log_head"), 3);
  EXPECT_EQ(status.at("pending"), 3);
  // Reference data counts are not changed by site writes.
  EXPECT_EQ(NodeCli::Count(status, "countries"), NodeCli::Count(fresh, "countries"));

  Ok(node_.Delete("participants", "MAS-P0000002"));
  status = node_.Status();
  EXPECT_EQ(NodeCli::Count(status, "participants"), 1u);
  EXPECT_EQ(status.at("log_head"), 4);
  EXPECT_EQ(status.at("pending"), 4);
}

TEST_F(NodeCliTest, StatusTextNamesSiteAndChangeLogHead) {
  Ok(node_.Put("participants", "MAS-P0000001", kAna));
  std::string text = Ok(node_.Run("status"));
  EXPECT_TRUE(Contains(text, "MAS"));
  EXPECT_TRUE(Contains(text, "change log head 1"));
}

// --- export -------------------------------------------------------------------

TEST_F(NodeCliTest, ExportIsSortedByCollectionAndIdAndLeavesOutDeleted) {
  // Written out of order, in several collections (a service after its participant).
  Ok(node_.Put("participants", "MAS-P0000010", kBen));
  Ok(node_.Put("participants", "MAS-P0000002", kAna));
  Ok(node_.Put("participants", "MAS-P0000001", kAna));
  Ok(node_.Put("services", "MAS-S0000002", kService));
  Ok(node_.Put("services", "MAS-S0000001", kService));
  Ok(node_.Delete("participants", "MAS-P0000002"));

  std::string all = Ok(node_.Export());
  auto keys = Keys(all);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end()) << "duplicate line";
  EXPECT_EQ(keys.size(), NodeCli::Count(node_.Status(), "countries") +
                             NodeCli::Count(node_.Status(), "agencies") +
                             NodeCli::Count(node_.Status(), "courses") +
                             NodeCli::Count(node_.Status(), "localities") +
                             NodeCli::Count(node_.Status(), "service_types") + 4);

  std::string participants = Ok(node_.Export("participants"));
  EXPECT_EQ(
      participants,
      RecordLine(
          "participants", "MAS-P0000001",
          R"({"consent":true,"family_name":"Cruz","given_name":"Ana","sex":"F","site":"MAS"})") +
          "\n" +
          RecordLine(
              "participants", "MAS-P0000010",
              R"({"consent":false,"family_name":"Reyes","given_name":"Ben","sex":"M","site":"MAS"})") +
          "\n");
  auto service_keys = Keys(Ok(node_.Export("services")));
  EXPECT_EQ(service_keys, (std::vector<std::pair<std::string, std::string>>{
                              {"services", "MAS-S0000001"}, {"services", "MAS-S0000002"}}));
}

TEST_F(NodeCliTest, ExportOfUnknownCollectionFails) {
  RunResult r = node_.Export("widgets");
  EXPECT_TRUE(FailedWithOneLine(r));
  EXPECT_TRUE(Contains(r.err, "\"widgets\""));
  EXPECT_TRUE(Contains(r.err, "--collection"));
}

TEST_F(NodeCliTest, ExportsOfTwoNodesGivenTheSameImportsAreByteIdentical) {
  RunResult gen = RunGen({"--site", "MAS", "--participants", "300", "--services-per", "2",
                          "--referrals-per", "1", "--trainings", "5", "--seed", "7"});
  ASSERT_EQ(gen.exit_code, 0) << gen.Describe();
  std::vector<std::string> lines = SplitLines(gen.out);
  ASSERT_GT(lines.size(), 1200u);

  // Node A imports the file as generated; node B the same records in reverse order within each
  // collection, in two imports (participants and trainings before the records naming them).
  WriteFile(temp_.Path("records.jsonl"), gen.out);
  Ok(node_.Import(temp_.Path("records.jsonl")));
  NodeCli other(temp_.Path("other"));
  Ok(other.Init("MAS"));
  auto rank = [](const std::string& line) {
    std::string collection = json::parse(line).at("collection");
    return collection == "participants" ? 0 : collection == "trainings" ? 1 : 2;
  };
  std::reverse(lines.begin(), lines.end());
  std::stable_sort(lines.begin(), lines.end(),
                   [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
  std::string first_half, second_half;
  for (size_t i = 0; i < lines.size(); ++i) {
    (i < lines.size() / 2 ? first_half : second_half) += lines[i] + "\n";
  }
  Ok(other.ImportText(first_half));
  Ok(other.ImportText(second_half));

  ProcessOptions to_a, to_b;
  to_a.stdout_file = temp_.Path("a.jsonl");
  to_b.stdout_file = temp_.Path("b.jsonl");
  Ok(node_.RunWithOptions("export", {"--include-personal"}, to_a));
  Ok(other.RunWithOptions("export", {"--include-personal"}, to_b));
  RunResult cmp = RunProcess({"cmp", temp_.Path("a.jsonl"), temp_.Path("b.jsonl")});
  EXPECT_EQ(cmp.exit_code, 0) << cmp.Describe();
  EXPECT_GT(std::filesystem::file_size(temp_.Path("a.jsonl")), gen.out.size());
}

// --- import -------------------------------------------------------------------

TEST_F(NodeCliTest, ImportFromStdinStoresAllRecords) {
  std::string text = RecordLine("participants", "MAS-P0000001", kAna) + "\n\n" +
                     RecordLine("services", "MAS-S0000001", kService) + "\n";
  std::string out = Ok(node_.ImportText(text));
  EXPECT_TRUE(Contains(out, "imported 2 records"));
  json status = node_.Status();
  EXPECT_EQ(NodeCli::Count(status, "participants"), 1u);
  EXPECT_EQ(NodeCli::Count(status, "services"), 1u);
  EXPECT_EQ(status.at("log_head"), 2);
}

TEST_F(NodeCliTest, ImportOfMissingFileFailsNamingTheFile) {
  uint64_t head = node_.LogHead();
  RunResult r = node_.Import(temp_.Path("missing.jsonl"));
  EXPECT_TRUE(FailedWithOneLine(r));
  EXPECT_TRUE(Contains(r.err, temp_.Path("missing.jsonl")));
  EXPECT_EQ(node_.LogHead(), head);
}

// The issue's acceptance: 30,000 generated records import, export returns
// exactly them, and importing the same file again changes nothing.
class NodeAcceptanceTest : public NodeCliTest {
 protected:
  static void SetUpTestSuite() {
    temp_suite_ = new TempDir("osrc-cli-acceptance");
    RunResult gen = RunGen(
        {"--site", "MAS", "--participants", "10000", "--services-per", "2", "--out", File()});
    ASSERT_EQ(gen.exit_code, 0) << gen.Describe();
  }
  static void TearDownTestSuite() {
    delete temp_suite_;
    temp_suite_ = nullptr;
  }
  static std::string File() { return temp_suite_->Path("30000.jsonl"); }

  static TempDir* temp_suite_;
};

TempDir* NodeAcceptanceTest::temp_suite_ = nullptr;

TEST_F(NodeAcceptanceTest, ImportOfThirtyThousandRecordsExportsExactlyThem) {
  std::vector<std::string> generated = SplitLines(ReadFile(File()));
  ASSERT_EQ(generated.size(), 30000u);

  RunResult r = node_.Import(File());
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "imported 30000 records"));
  json status = node_.Status();
  EXPECT_EQ(NodeCli::Count(status, "participants"), 10000u);
  EXPECT_EQ(NodeCli::Count(status, "services"), 20000u);
  EXPECT_EQ(status.at("log_head"), 30000);

  std::string exported = Ok(node_.Export("participants")) + Ok(node_.Export("services"));
  std::sort(generated.begin(), generated.end());
  std::vector<std::string> lines = SplitLines(exported);
  ASSERT_EQ(lines.size(), generated.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i] != generated[i] && ++mismatches <= 3) {
      ADD_FAILURE() << "line " << i + 1 << " differs\n  export:    " << lines[i]
                    << "\n  generated: " << generated[i];
    }
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST_F(NodeAcceptanceTest, ImportingTheSameFileTwiceLeavesChangeLogHeadUnchanged) {
  Ok(node_.Import(File()));
  json before = node_.Status();
  std::string export_before = Ok(node_.Export());

  RunResult again = node_.Import(File());
  ASSERT_EQ(again.exit_code, 0) << again.Describe();
  EXPECT_TRUE(Contains(again.out, "0 changed"));
  json after = node_.Status();
  EXPECT_EQ(after.at("log_head"), before.at("log_head"));
  EXPECT_EQ(after.at("log_head"), 30000);
  EXPECT_EQ(after.at("records"), before.at("records"));
  EXPECT_TRUE(Ok(node_.Export()) == export_before) << "export changed by the second import";
}

// --- data folder ------------------------------------------------------------------

TEST_F(NodeInitTest, EveryCommandFailsOnMissingDataFolderAndCreatesNothing) {
  const std::vector<std::vector<std::string>> commands = {
      {"status", "--json"},
      {"get", "participants", "MAS-P0000001"},
      {"put", "participants", "MAS-P0000001", "--json", kAna},
      {"delete", "participants", "MAS-P0000001"},
      {"import", "-"},
      {"export"},
  };
  for (const auto& command : commands) {
    SCOPED_TRACE(command[0]);
    std::vector<std::string> args(command.begin() + 1, command.end());
    RunResult r = node_.Run(command[0], args, RecordLine("participants", "MAS-P0000001", kAna));
    EXPECT_TRUE(FailedWithOneLine(r));
    EXPECT_TRUE(Contains(r.err, node_.dir()));
    EXPECT_FALSE(std::filesystem::exists(node_.dir()));
  }
}

TEST_F(NodeInitTest, CommandsFailOnFolderThatIsNotANode) {
  std::filesystem::create_directory(node_.dir());
  WriteFile(node_.dir() + "/notes.txt", "not a node\n");
  for (const std::string command : {"status", "export"}) {
    SCOPED_TRACE(command);
    RunResult r = node_.Run(command);
    EXPECT_TRUE(FailedWithOneLine(r));
    EXPECT_TRUE(Contains(r.err, node_.dir()));
  }
  RunResult put = node_.Put("participants", "MAS-P0000001", kAna);
  EXPECT_TRUE(FailedWithOneLine(put));
  EXPECT_TRUE(Contains(put.err, node_.dir()));
  // Nothing was created in the foreign folder.
  std::vector<std::string> entries;
  for (const auto& entry : std::filesystem::directory_iterator(node_.dir())) {
    entries.push_back(entry.path().filename());
  }
  EXPECT_EQ(entries, std::vector<std::string>{"notes.txt"});
}

TEST_F(NodeCliTest, OsrcDataIsUsedWhenDataFlagIsAbsent) {
  ProcessOptions options;
  options.env = {{"OSRC_DATA", node_.dir()}};
  RunResult put = RunWith(
      {BinPath("osrc-node"), "put", "participants", "MAS-P0000001", "--json", kAna}, options);
  ASSERT_EQ(put.exit_code, 0) << put.Describe();
  RunResult status = RunWith({BinPath("osrc-node"), "status", "--json"}, options);
  ASSERT_EQ(status.exit_code, 0) << status.Describe();
  EXPECT_EQ(json::parse(status.out).at("site"), "MAS");
  // The write went to that folder.
  EXPECT_EQ(node_.Get("participants", "MAS-P0000001").exit_code, 0);
}

TEST_F(NodeCliTest, DataFlagWinsOverOsrcData) {
  NodeCli other(temp_.Path("other"));
  Ok(other.Init("ANT"));
  ProcessOptions options;
  options.env = {{"OSRC_DATA", other.dir()}};
  RunResult status = node_.RunWithOptions("status", {"--json"}, options);
  ASSERT_EQ(status.exit_code, 0) << status.Describe();
  EXPECT_EQ(json::parse(status.out).at("site"), "MAS");
}

TEST(NodeDataFolderTest, MissingDataFlagAndOsrcDataIsAnError) {
  ProcessOptions options;
  options.unset_env = {"OSRC_DATA"};
  RunResult r = RunWith({BinPath("osrc-node"), "status"}, options);
  EXPECT_TRUE(FailedWithOneLine(r));
  EXPECT_TRUE(Contains(r.err, "--data"));
  EXPECT_TRUE(Contains(r.err, "OSRC_DATA"));
}

// --- bad input: rejected with what and where, nothing written -----------------------

struct BadInput {
  const char* name;
  const char* collection;
  const char* id;
  const char* fields;     // The JSON object (possibly malformed).
  const char* what;       // Must appear in the error.
  const char* what_also;  // Must appear too (may be "").
};

void PrintTo(const BadInput& c, std::ostream* os) { *os << c.name; }

const BadInput kBadInputs[] = {
    {"UnknownCollection", "widgets", "MAS-W0000001", R"({"name":"x"})", "unknown collection",
     "\"widgets\""},
    {"UnknownField", "participants", "MAS-P0000050",
     R"({"site":"MAS","family_name":"Cruz","given_name":"Ana","consent":true,"nickname":"A"})",
     "field \"nickname\"", "unknown field"},
    {"WrongTypeBool", "participants", "MAS-P0000050",
     R"({"site":"MAS","family_name":"Cruz","given_name":"Ana","consent":"yes"})",
     "field \"consent\"", ""},
    {"WrongTypeText", "participants", "MAS-P0000050",
     R"({"site":"MAS","family_name":5,"given_name":"Ana","consent":true})", "field \"family_name\"",
     ""},
    {"BadDate", "participants", "MAS-P0000050",
     R"({"site":"MAS","family_name":"Cruz","given_name":"Ana","consent":true,"birth_date":"2024-02-30"})",
     "field \"birth_date\"", "2024-02-30"},
    {"DateTimeNotUtc", "participants", "MAS-P0000050",
     R"({"site":"MAS","family_name":"Cruz","given_name":"Ana","consent":true,"registered_at":"2024-02-03T10:00:00+08:00"})",
     "field \"registered_at\"", ""},
    {"MissingRequiredField", "participants", "MAS-P0000050",
     R"({"site":"MAS","family_name":"Cruz","consent":true})", "field \"given_name\"", "required"},
    {"BadEnum", "participants", "MAS-P0000050",
     R"({"site":"MAS","family_name":"Cruz","given_name":"Ana","consent":true,"sex":"X"})",
     "field \"sex\"", "\"X\""},
    {"BadReference", "participants", "MAS-P0000050",
     R"({"site":"MAS","family_name":"Cruz","given_name":"Ana","consent":true,"destination_country":"ZZ"})",
     "field \"destination_country\"", "\"ZZ\""},
    {"BadServiceTypeReference", "services", "MAS-S0000050",
     R"({"participant_id":"MAS-P0000001","service_type":"astrology","date":"2025-01-31"})",
     "field \"service_type\"", "\"astrology\""},
    {"MalformedJson", "participants", "MAS-P0000050", R"({"site":"MAS","family_name":)",
     "malformed JSON", ""},
    {"FieldsNotAnObject", "participants", "MAS-P0000050", R"(["MAS"])", "not an object", ""},
    {"IdOfAnotherSite", "participants", "ANT-P0000050",
     R"({"site":"ANT","family_name":"Cruz","given_name":"Ana","consent":true})", "\"ANT-P0000050\"",
     "site code"},
    {"IdWithSpace", "participants", "MAS-P 50",
     R"({"site":"MAS","family_name":"Cruz","given_name":"Ana","consent":true})", "\"MAS-P 50\"",
     ""},
    {"HubOwnedCollection", "countries", "XK", R"({"name":"Kosovo"})", "\"countries\"", "hub"},
    // The schema's rules on data (README "Schema rules"), each with its exact message.
    {"DanglingParticipant", "services", "MAS-S0000050",
     R"({"participant_id":"MAS-P0000009","service_type":"referral","date":"2025-01-31"})",
     "field \"participant_id\": no participants record \"MAS-P0000009\"", ""},
    {"ParticipantOfAnotherSite", "services", "MAS-S0000050",
     R"({"participant_id":"ANT-P0000001","service_type":"referral","date":"2025-01-31"})",
     "field \"participant_id\": \"ANT-P0000001\" is not a participants id of site MAS", ""},
    {"DanglingTraining", "attendance", "MAS-A0000050",
     R"({"participant_id":"MAS-P0000001","training_id":"MAS-T00009","attended":true})",
     "field \"training_id\": no trainings record \"MAS-T00009\"", ""},
    {"SiteIsNotTheIdsSite", "participants", "MAS-P0000050",
     R"({"site":"ANT","family_name":"Cruz","given_name":"Ana","consent":true})",
     "field \"site\": \"ANT\" is not the site of the id, \"MAS\"", ""},
    {"BirthDateBefore1900", "participants", "MAS-P0000050",
     R"({"site":"MAS","family_name":"Cruz","given_name":"Ana","consent":true,"birth_date":"1899-12-31"})",
     "field \"birth_date\": \"1899-12-31\" is before 1900-01-01", ""},
    {"BirthDateInTheFuture", "participants", "MAS-P0000050",
     R"({"site":"MAS","family_name":"Cruz","given_name":"Ana","consent":true,"birth_date":"2999-01-01"})",
     "field \"birth_date\": \"2999-01-01\" is after today (", ""},
    {"RegisteredMoreThanADayAhead", "participants", "MAS-P0000050",
     R"({"site":"MAS","family_name":"Cruz","given_name":"Ana","consent":true,"registered_at":"2999-01-01T00:00:00Z"})",
     "field \"registered_at\": \"2999-01-01T00:00:00Z\" is after now+1d (", ""},
    {"DuplicateKey", "participants", "MAS-P0000050",
     R"({"site":"MAS","sex":"F","family_name":"Cruz","given_name":"Ana","consent":true,"sex":"M"})",
     "participants/MAS-P0000050: duplicate key \"sex\"", ""},
    {"IdWithADot", "participants", "MAS-P.50",
     R"({"site":"MAS","family_name":"Cruz","given_name":"Ana","consent":true})",
     "id \"MAS-P.50\" has U+002E at byte 6: after the site code only letters, digits and \"-\"",
     ""},
    {"TabInText", "participants", "MAS-P0000050",
     R"({"site":"MAS","family_name":"Cruz\tDela","given_name":"Ana","consent":true})",
     "field \"family_name\": text holds control character U+0009 at byte 5", ""},
    {"BidiOverrideInText", "participants", "MAS-P0000050",
     R"({"site":"MAS","family_name":"Cruz","given_name":"Ana\u202e","consent":true})",
     "field \"given_name\": text holds bidirectional control U+202E at byte 4", ""},
    {"BlankRequiredText", "participants", "MAS-P0000050",
     R"({"site":"MAS","family_name":"  ","given_name":"Ana","consent":true})",
     "field \"family_name\": required text is blank", ""},
};

class NodeBadInputTest : public NodeCliTest, public ::testing::WithParamInterface<BadInput> {
 protected:
  void SetUp() override {
    NodeCliTest::SetUp();
    if (HasFatalFailure()) return;
    // Something to keep: the store is not empty.
    Ok(node_.ImportText(RecordLine("participants", "MAS-P0000001", kAna) + "\n" +
                        RecordLine("services", "MAS-S0000001", kService) + "\n"));
    head_ = node_.LogHead();
    export_ = Ok(node_.Export());
  }

  // Nothing was written: same change log head and the same export (of all
  // collections, so neither the bad record nor a good one next to it).
  void ExpectNothingWritten() {
    EXPECT_EQ(node_.LogHead(), head_);
    std::string now = Ok(node_.Export());
    EXPECT_TRUE(now == export_) << "export changed";
    EXPECT_EQ(now.find("MAS-P0000100"), std::string::npos);
  }

  uint64_t head_ = 0;
  std::string export_;
};

TEST_P(NodeBadInputTest, PutIsRejectedNamingWhatAndWhereAndWritesNothing) {
  const BadInput& c = GetParam();
  RunResult r = node_.Put(c.collection, c.id, c.fields);
  EXPECT_TRUE(FailedWithOneLine(r));
  EXPECT_TRUE(Contains(r.err, std::string(c.collection) + "/" + c.id));
  EXPECT_TRUE(Contains(r.err, c.what));
  EXPECT_TRUE(Contains(r.err, c.what_also));
  ExpectNothingWritten();
}

TEST_P(NodeBadInputTest, ImportIsRejectedNamingFileAndLineAndWritesNothing) {
  const BadInput& c = GetParam();
  // Good records before and after the bad one: all or nothing.
  std::string text = RecordLine("participants", "MAS-P0000100", kBen) + "\n\n" +
                     RecordLine(c.collection, c.id, c.fields) + "\n" +
                     RecordLine("participants", "MAS-P0000101", kBen) + "\n";
  WriteFile(temp_.Path("bad.jsonl"), text);
  RunResult r = node_.Import(temp_.Path("bad.jsonl"));
  EXPECT_TRUE(FailedWithErrorsThenSummary(r, 1));
  EXPECT_TRUE(Contains(r.err, "osrc-node: " + temp_.Path("bad.jsonl") + ": line 3: "));
  EXPECT_TRUE(Contains(
      r.err, "osrc-node: 1 bad line in " + temp_.Path("bad.jsonl") + "; nothing imported\n"));
  EXPECT_TRUE(Contains(r.err, c.what));
  EXPECT_TRUE(Contains(r.err, c.what_also));
  ExpectNothingWritten();
}

TEST_P(NodeBadInputTest, ImportFromStdinIsRejectedNamingLine) {
  const BadInput& c = GetParam();
  std::string text = RecordLine("participants", "MAS-P0000100", kBen) + "\n" +
                     RecordLine(c.collection, c.id, c.fields) + "\n";
  RunResult r = node_.ImportText(text);
  EXPECT_TRUE(FailedWithErrorsThenSummary(r, 1));
  EXPECT_TRUE(Contains(r.err, "osrc-node: standard input: line 2: "));
  EXPECT_TRUE(Contains(r.err, c.what));
  ExpectNothingWritten();
}

INSTANTIATE_TEST_SUITE_P(Cases, NodeBadInputTest, ::testing::ValuesIn(kBadInputs),
                         [](const ::testing::TestParamInfo<BadInput>& info) {
                           return std::string(info.param.name);
                         });

TEST_F(NodeCliTest, ImportOfLineThatIsNotARecordIsRejectedWithLineNumber) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json at all", "malformed JSON"},
      {R"({"id":"MAS-P0000100","fields":{}})", "collection"},
      {R"({"collection":"participants","fields":{}})", "id"},
      {R"([1,2,3])", ""},
  };
  uint64_t head = node_.LogHead();
  for (const auto& [line, what] : cases) {
    SCOPED_TRACE(line);
    RunResult r =
        node_.ImportText(RecordLine("participants", "MAS-P0000100", kBen) + "\n" + line + "\n");
    EXPECT_TRUE(FailedWithErrorsThenSummary(r, 1));
    EXPECT_TRUE(Contains(r.err, "standard input: line 2"));
    EXPECT_TRUE(Contains(r.err, what));
    EXPECT_EQ(node_.LogHead(), head);
  }
}

}  // namespace
}  // namespace osrc::testing

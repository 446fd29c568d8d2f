// Tests of the replica record operations (replica/records.h) against a store in a temporary
// folder: checked puts and deletes from JSON, all-or-nothing imports, sorted exports and the
// shipped reference data.
#include "replica/records.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/defaults.h"
#include "config/schema_loader.h"
#include "storage/merge.h"
#include "storage/store.h"
#include "tests/support/scratch_env.h"
#include "tests/support/temp_dir.h"

namespace osrc::replica {
namespace {

using testing::ScratchEnv;

class FakeClock : public storage::Clock {
 public:
  uint64_t NowMillis() override { return now++; }  // every write a new millisecond
  uint64_t now = 1'700'000'000'000;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

const char kAna[] =
    R"({"collection":"participants","id":"MAS-P1","fields":{"consent":true,"family_name":"Cruz","given_name":"Ana","site":"MAS"}})";
const char kBen[] =
    R"({"collection":"participants","id":"MAS-P2","fields":{"consent":false,"family_name":"Reyes","given_name":"Ben","site":"MAS"}})";
const char kCora[] =
    R"({"collection":"participants","id":"MAS-P3","fields":{"consent":true,"family_name":"Santos","given_name":"Cora","site":"MAS"}})";
const char kService[] =
    R"({"collection":"services","id":"MAS-S1","fields":{"date":"2024-03-01","participant_id":"MAS-P1","service_type":"legal_migration_counselling"}})";

class RecordsTest : public ::testing::Test {
 protected:
  RecordsTest()
      : dir_("osrc-records-test"),
        store_(std::make_unique<storage::Store>(dir_.path(), ScratchEnv())),
        writer_{*store_, config::DefaultSchema(), clock_, "MAS", false, {}} {}

  uint64_t Head() {
    storage::ReadTxn txn(store_->env());
    return store_->LogHead(txn);
  }
  std::string Export(std::string_view collection = "", std::string_view prefix = "") {
    std::ostringstream out;
    ExportJsonLines(*store_, collection, prefix, out);
    return out.str();
  }
  Status Import(const std::string& text, ImportStats* stats = nullptr, std::string_view only = "") {
    ImportStats ignored;
    std::istringstream in(text);
    return ImportJsonLines(writer_, in, only, stats != nullptr ? stats : &ignored);
  }
  Status Put(std::string_view collection, std::string_view id, std::string_view json,
             bool* changed = nullptr) {
    bool ignored = false;
    return PutJson(writer_, collection, id, json, changed != nullptr ? changed : &ignored);
  }
  bool Exists(std::string_view collection, std::string_view id) {
    std::string line;
    Status status = GetJson(*store_, collection, id, &line);
    EXPECT_TRUE(status.ok() || status.code() == ErrorCode::kNotFound) << status.ToString();
    return status.ok();
  }

  FakeClock clock_;
  osrc::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  Writer writer_;
};

// --- Reference data.

TEST_F(RecordsTest, DefaultReferenceDataLoadsEveryShippedLine) {
  ASSERT_TRUE(LoadDefaultReferenceData(*store_, config::DefaultSchema()).ok());
  std::map<std::string, size_t> expected;
  for (std::string_view file : config::kReferenceFiles) {
    for (const std::string& line : Lines(std::string(config::DefaultFile(file)))) {
      if (!line.empty()) ++expected[std::string(file.substr(0, file.find('.')))];
    }
  }
  storage::ReadTxn txn(store_->env());
  auto counts = CountRecords(*store_, txn);
  EXPECT_EQ((std::map<std::string, size_t>(counts.begin(), counts.end())), expected);
  EXPECT_GT(expected["countries"], 200u);
  EXPECT_EQ(store_->LogHead(txn), 0u);  // reference data is not this replica's write
  std::string line;
  ASSERT_TRUE(GetJson(*store_, "countries", "PH", &line).ok());
  EXPECT_EQ(line, R"({"collection":"countries","id":"PH","fields":{"name":"Philippines"}})");
}

TEST_F(RecordsTest, DefaultReferenceDataIsIdempotent) {
  ASSERT_TRUE(LoadDefaultReferenceData(*store_, config::DefaultSchema()).ok());
  std::string first = Export();
  ASSERT_TRUE(LoadDefaultReferenceData(*store_, config::DefaultSchema()).ok());
  EXPECT_EQ(Export(), first);
  EXPECT_EQ(Head(), 0u);
}

TEST_F(RecordsTest, ShippedLinesExportUnchanged) {
  ASSERT_TRUE(LoadDefaultReferenceData(*store_, config::DefaultSchema()).ok());
  std::vector<std::string> lines = Lines(std::string(config::DefaultFile("countries.jsonl")));
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(Lines(Export("countries")), lines);
}

// --- Puts and deletes.

TEST_F(RecordsTest, PutJsonCreatesThenReportsNoChange) {
  bool changed = false;
  ASSERT_TRUE(Put("participants", "MAS-P1",
                  R"({"site":"MAS","family_name":"Cruz","given_name":"Ana","consent":true})",
                  &changed)
                  .ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ(Head(), 1u);
  std::string line;
  ASSERT_TRUE(GetJson(*store_, "participants", "MAS-P1", &line).ok());
  EXPECT_EQ(line, kAna);
  ASSERT_TRUE(
      Put("participants", "MAS-P1", R"({"given_name":"Ana","consent":true})", &changed).ok());
  EXPECT_FALSE(changed);
  EXPECT_EQ(Head(), 1u);
  ASSERT_TRUE(Put("participants", "MAS-P1", R"({"phone":"0917"})", &changed).ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ(Head(), 2u);
}

TEST_F(RecordsTest, PutJsonErrorsNameTheRecordAndField) {
  Status status =
      Put("participants", "MAS-P1", R"({"family_name":"Cruz","given_name":"Ana","site":"MAS"})");
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_EQ(status.where(), "participants/MAS-P1: field \"consent\"");
  EXPECT_NE(status.what().find("required"), std::string::npos);

  status = Put("participants", "MAS-P1", R"({"sex":"X"})");
  EXPECT_EQ(status.ToString(), "participants/MAS-P1: field \"sex\": \"X\" is not one of F, M");

  status = Put("participants", "MNL-P1", R"({"sex":"F"})");
  EXPECT_EQ(status.code(), ErrorCode::kForbidden);
  EXPECT_NE(status.where().find("participants/MNL-P1"), std::string::npos);

  status = Put("countries", "XX", R"({"name":"Nowhere"})");
  EXPECT_EQ(status.code(), ErrorCode::kForbidden);

  status = Put("participants", "MAS-P1", "{not json");
  EXPECT_EQ(status.what(), "malformed JSON");
  EXPECT_EQ(Head(), 0u);
  EXPECT_FALSE(Exists("participants", "MAS-P1"));
}

TEST_F(RecordsTest, PutJsonChecksReferencesAgainstTheStore) {
  std::string json =
      R"({"site":"MAS","family_name":"Cruz","given_name":"Ana","consent":true,"destination_country":"JP"})";
  Status status = Put("participants", "MAS-P1", json);
  EXPECT_EQ(status.where(), "participants/MAS-P1: field \"destination_country\"");
  ASSERT_TRUE(LoadDefaultReferenceData(*store_, config::DefaultSchema()).ok());
  EXPECT_TRUE(Put("participants", "MAS-P1", json).ok());
  status = Put("participants", "MAS-P1", R"({"destination_country":"XX"})");
  EXPECT_EQ(status.ToString(),
            "participants/MAS-P1: field \"destination_country\": no countries record \"XX\"");
}

// What a replica stores is exactly what it logs for the others.
TEST_F(RecordsTest, StoredRecordMatchesItsLoggedChange) {
  ASSERT_TRUE(Put("participants", "MAS-P1",
                  R"({"site":"MAS","family_name":"Cruz\u00e9","given_name":"A B","consent":true})")
                  .ok());
  EXPECT_EQ(Put("participants", "MAS-P1", R"({"phone":"0\u00001"})").what(),
            "text holds control character U+0000 at byte 2");
  storage::ReadTxn txn(store_->env());
  auto state = store_->GetRecord(txn, "participants", "MAS-P1");
  ASSERT_TRUE(state);
  storage::RecordState replayed;
  for (uint64_t seq = 1; seq <= store_->LogHead(txn); ++seq) {
    protocol::Change logged;
    ASSERT_TRUE(protocol::DecodeChange(*store_->GetLog(txn, seq), {}, &logged).ok());
    storage::Merge(logged, &replayed);
  }
  EXPECT_EQ(replayed, *state);
}

TEST_F(RecordsTest, RequiredFieldsCannotBeUnset) {
  ASSERT_TRUE(Import(std::string(kAna) + "\n").ok());
  Status status = Put("participants", "MAS-P1", R"({"family_name":null})");
  EXPECT_EQ(status.where(), "participants/MAS-P1: field \"family_name\"");
  ASSERT_TRUE(Put("participants", "MAS-P1", R"({"phone":"1"})").ok());
  ASSERT_TRUE(Put("participants", "MAS-P1", R"({"phone":null})").ok());
  std::string line;
  ASSERT_TRUE(GetJson(*store_, "participants", "MAS-P1", &line).ok());
  EXPECT_EQ(line, kAna);  // the unset field is left out
}

TEST_F(RecordsTest, DeletedRecordsAreNotFound) {
  ASSERT_TRUE(Import(std::string(kAna) + "\n").ok());
  DeleteResult result;
  ASSERT_TRUE(DeleteRecord(writer_, "participants", "MAS-P1", false, &result).ok());
  EXPECT_TRUE(result.cascaded.empty());
  EXPECT_EQ(Head(), 2u);
  std::string line;
  Status status = GetJson(*store_, "participants", "MAS-P1", &line);
  EXPECT_EQ(status.code(), ErrorCode::kNotFound);
  EXPECT_EQ(status.where(), "participants/MAS-P1");
  status = DeleteRecord(writer_, "participants", "MAS-P1", false, &result);
  EXPECT_EQ(status.code(), ErrorCode::kNotFound);
  EXPECT_EQ(Head(), 2u);
  EXPECT_EQ(DeleteRecord(writer_, "participants", "MAS-P9", false, &result).code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(DeleteRecord(writer_, "participants", "MNL-P1", false, &result).code(),
            ErrorCode::kForbidden);
}

TEST_F(RecordsTest, OnChangeSeesEachRecordedChange) {
  std::vector<uint64_t> seqs;
  writer_.on_change = [&](storage::WriteTxn&, const protocol::Change& change) {
    EXPECT_EQ(change.origin, "MAS");
    seqs.push_back(change.seq);
  };
  ASSERT_TRUE(Import(std::string(kAna) + "\n" + kBen + "\n").ok());
  ASSERT_TRUE(Import(std::string(kAna) + "\n").ok());  // no change, no call
  DeleteResult deleted;
  ASSERT_TRUE(DeleteRecord(writer_, "participants", "MAS-P2", false, &deleted).ok());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2, 3}));
}

// --- Import.

TEST_F(RecordsTest, ImportIsAllOrNothing) {
  ASSERT_TRUE(Import(std::string(kCora) + "\n").ok());
  uint64_t head = Head();
  std::string before = Export();
  std::string text = std::string(kAna) + "\n" + kBen + "\n" +
                     R"({"collection":"participants","id":"MAS-P4","fields":{"sex":"X"}})" + "\n" +
                     kService + "\n";
  ImportStats stats;
  Status status = Import(text, &stats);
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_EQ(status.where(), "line 3: participants/MAS-P4: field \"sex\"");
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(Export(), before);
  EXPECT_FALSE(Exists("participants", "MAS-P1"));
  EXPECT_FALSE(Exists("participants", "MAS-P2"));
}

TEST_F(RecordsTest, ImportErrorsNameTheLine) {
  struct Case {
    std::string third_line;
    std::string where;
  };
  std::vector<Case> cases = {
      {"{oops", "line 3"},
      {R"({"collection":"participants","id":"MAS-P4","fields":{"site":"MAS"}})",
       "line 3: participants/MAS-P4: field \"consent\""},
      {R"({"collection":"participants","id":"MNL-P4","fields":{}})", "line 3"},
      {R"({"collection":"countries","id":"XX","fields":{"name":"X"}})", "line 3"},
  };
  for (const Case& c : cases) {
    Status status = Import(std::string(kAna) + "\n\n" + c.third_line + "\n" + kBen + "\n");
    EXPECT_FALSE(status.ok()) << c.third_line;
    EXPECT_EQ(status.where(), c.where) << status.ToString();
  }
  EXPECT_EQ(Head(), 0u);
  EXPECT_EQ(Export(), "");
}

TEST_F(RecordsTest, ImportingTheSameLinesTwiceChangesNothing) {
  std::string text = std::string(kAna) + "\n" + kBen + "\n" + kCora + "\n";
  ImportStats first;
  ASSERT_TRUE(Import(text, &first).ok());
  EXPECT_EQ(first.lines, 3u);
  EXPECT_EQ(first.changed, 3u);
  EXPECT_EQ(first.head, 3u);
  std::string exported = Export();
  ImportStats second;
  ASSERT_TRUE(Import(text, &second).ok());
  EXPECT_EQ(second.lines, 3u);
  EXPECT_EQ(second.changed, 0u);
  EXPECT_EQ(second.head, 3u);
  EXPECT_EQ(Head(), 3u);
  EXPECT_EQ(Export(), exported);
}

TEST_F(RecordsTest, ImportSkipsBlankLinesAndAcceptsCrlf) {
  ImportStats stats;
  ASSERT_TRUE(Import("\n" + std::string(kAna) + "\r\n\r\n" + kBen + "\r\n", &stats).ok());
  EXPECT_EQ(stats.lines, 2u);
  EXPECT_TRUE(Exists("participants", "MAS-P1"));
  EXPECT_TRUE(Exists("participants", "MAS-P2"));
}

TEST_F(RecordsTest, ImportLaterLinesSeeEarlierOnes) {
  // Line 2 updates the record line 1 created: its required fields are already set.
  ImportStats stats;
  ASSERT_TRUE(Import(std::string(kAna) + "\n" +
                         R"({"collection":"participants","id":"MAS-P1","fields":{"phone":"1"}})" +
                         "\n",
                     &stats)
                  .ok());
  EXPECT_EQ(stats.changed, 2u);
  EXPECT_EQ(Head(), 2u);
}

TEST_F(RecordsTest, ImportCanBeRestrictedToOneCollection) {
  ASSERT_TRUE(LoadDefaultReferenceData(*store_, config::DefaultSchema()).ok());
  Status status = Import(std::string(kAna) + "\n" + kService + "\n", nullptr, "participants");
  EXPECT_EQ(status.where(), "line 2");
  EXPECT_NE(status.what().find("\"services\" is not \"participants\""), std::string::npos);
  EXPECT_FALSE(Exists("participants", "MAS-P1"));
  EXPECT_TRUE(Import(std::string(kAna) + "\n", nullptr, "participants").ok());
}

// --- References, bounds and delete.

const char kService2[] =
    R"({"collection":"services","id":"MAS-S2","fields":{"date":"2024-03-02","participant_id":"MAS-P1","service_type":"referral"}})";
const char kBenService[] =
    R"({"collection":"services","id":"MAS-S3","fields":{"date":"2024-03-02","participant_id":"MAS-P2","service_type":"referral"}})";
const char kTraining[] =
    R"({"collection":"trainings","id":"MAS-T1","fields":{"course":"fin_lit_basic","start_date":"2024-04-01"}})";
const char kAttendance[] =
    R"({"collection":"attendance","id":"MAS-A1","fields":{"attended":true,"participant_id":"MAS-P1","training_id":"MAS-T1"}})";

TEST_F(RecordsTest, ImportNeedsAReferencedRecordStoredOrOnAnEarlierLine) {
  ASSERT_TRUE(LoadDefaultReferenceData(*store_, config::DefaultSchema()).ok());
  Status status = Import(std::string(kService) + "\n" + kAna + "\n");
  EXPECT_EQ(status.ToString(),
            "line 1: services/MAS-S1: field \"participant_id\": no participants record \"MAS-P1\"");
  EXPECT_EQ(Head(), 0u);
  // Earlier in the same import (one transaction): found.
  ImportStats stats;
  ASSERT_TRUE(Import(std::string(kAna) + "\n" + kService + "\n" + kTraining + "\n" + kAttendance +
                         "\n" + kService2 + "\n",
                     &stats)
                  .ok());
  EXPECT_EQ(stats.changed, 5u);
  // Already stored: found.
  ASSERT_TRUE(Import(std::string(kService2) + "\n").ok());
  status = Import(
      std::string(kAttendance) + "\n" +
      R"({"collection":"attendance","id":"MAS-A2","fields":{"attended":true,"participant_id":"MAS-P1","training_id":"MAS-T9"}})" +
      "\n");
  EXPECT_EQ(status.ToString(),
            "line 2: attendance/MAS-A2: field \"training_id\": no trainings record \"MAS-T9\"");
}

TEST_F(RecordsTest, PutNeedsALiveReferencedRecordOfTheSameSite) {
  ASSERT_TRUE(LoadDefaultReferenceData(*store_, config::DefaultSchema()).ok());
  ASSERT_TRUE(Import(std::string(kAna) + "\n").ok());
  const char kJson[] = R"({"date":"2024-03-01","service_type":"referral","participant_id":"%s"})";
  auto put = [&](const char* participant) {
    char json[200];
    std::snprintf(json, sizeof json, kJson, participant);
    return Put("services", "MAS-S1", json).ToString();
  };
  EXPECT_EQ(put("MAS-P9"),
            "services/MAS-S1: field \"participant_id\": no participants record \"MAS-P9\"");
  EXPECT_EQ(put("ANT-P1"),
            "services/MAS-S1: field \"participant_id\": \"ANT-P1\" is not a participants id of "
            "site MAS");
  EXPECT_EQ(put("MAS-P1"), "");
  DeleteResult result;
  ASSERT_TRUE(DeleteRecord(writer_, "participants", "MAS-P1", true, &result).ok());
  EXPECT_EQ(put("MAS-P1"),
            "services/MAS-S1: field \"participant_id\": participants record \"MAS-P1\" is "
            "deleted");
}

TEST_F(RecordsTest, HubCorrectionsCheckReferencesToo) {
  Writer hub{*store_, config::DefaultSchema(), clock_, "MNL", true, {}};
  ASSERT_TRUE(LoadDefaultReferenceData(*store_, config::DefaultSchema()).ok());
  bool changed = false;
  Status status = PutJson(
      hub, "services", "ANT-S1",
      R"({"date":"2024-03-01","service_type":"referral","participant_id":"ANT-P1"})", &changed);
  EXPECT_EQ(status.ToString(),
            "services/ANT-S1: field \"participant_id\": no participants record \"ANT-P1\"");
  status = PutJson(hub, "services", "ANT-S1",
                   R"({"date":"2024-03-01","service_type":"referral","participant_id":"MAS-P1"})",
                   &changed);
  EXPECT_EQ(status.ToString(),
            "services/ANT-S1: field \"participant_id\": \"MAS-P1\" is not a participants id of "
            "site ANT");
}

TEST_F(RecordsTest, ClockBoundsUseTheWritersClock) {
  // clock_ stands at 2023-11-14T22:13:20Z (one millisecond more at each reading).
  const char kPerson[] = R"({"site":"MAS","family_name":"Cruz","given_name":"Ana","consent":true,)";
  EXPECT_EQ(Put("participants", "MAS-P1", std::string(kPerson) + R"("birth_date":"2023-11-15"})")
                .ToString(),
            Status(ErrorCode::kBadInput, "\"2023-11-15\" is after today (2023-11-14)",
                   "participants/MAS-P1: field \"birth_date\"")
                .ToString());
  Status status = Put("participants", "MAS-P1",
                      std::string(kPerson) + R"("registered_at":"2023-11-16T00:00:00Z"})");
  EXPECT_EQ(status.ToString(),
            "participants/MAS-P1: field \"registered_at\": \"2023-11-16T00:00:00Z\" is after "
            "now+1d (2023-11-15T22:13:20Z)");
  EXPECT_TRUE(Put("participants", "MAS-P1",
                  std::string(kPerson) +
                      R"("birth_date":"2023-11-14","registered_at":"2023-11-15T22:00:00Z"})")
                  .ok());
  // The same line a day later on the clock.
  clock_.now += 86'400'000;
  status = Import(std::string(R"({"collection":"participants","id":"MAS-P2","fields":)") + kPerson +
                  R"("birth_date":"2023-11-16"}})" + "\n");
  EXPECT_EQ(status.ToString(),
            "line 1: participants/MAS-P2: field \"birth_date\": \"2023-11-16\" is after today "
            "(2023-11-15)");
}

TEST_F(RecordsTest, DeleteIsRefusedWhileLiveRecordsReferenceIt) {
  ASSERT_TRUE(LoadDefaultReferenceData(*store_, config::DefaultSchema()).ok());
  ASSERT_TRUE(Import(std::string(kAna) + "\n" + kBen + "\n" + kService + "\n" + kService2 + "\n" +
                     kBenService + "\n" + kTraining + "\n" + kAttendance + "\n")
                  .ok());
  uint64_t head = Head();
  DeleteResult result;
  Status status = DeleteRecord(writer_, "participants", "MAS-P1", false, &result);
  EXPECT_EQ(status.ToString(),
            "participants/MAS-P1: referenced by 1 attendance, 2 services; delete those first, or "
            "delete with --cascade to delete them too");
  EXPECT_TRUE(result.cascaded.empty());
  status = DeleteRecord(writer_, "trainings", "MAS-T1", false, &result);
  EXPECT_EQ(status.ToString(),
            "trainings/MAS-T1: referenced by 1 attendance; delete those first, or delete with "
            "--cascade to delete them too");
  EXPECT_EQ(Head(), head);
  EXPECT_TRUE(Exists("participants", "MAS-P1"));
  // Deleted referrers no longer hold it.
  ASSERT_TRUE(DeleteRecord(writer_, "services", "MAS-S3", false, &result).ok());
  EXPECT_TRUE(DeleteRecord(writer_, "participants", "MAS-P2", false, &result).ok());
}

TEST_F(RecordsTest, CascadeDeletesTheReferencingRecordsInOneTransaction) {
  ASSERT_TRUE(LoadDefaultReferenceData(*store_, config::DefaultSchema()).ok());
  ASSERT_TRUE(Import(std::string(kAna) + "\n" + kBen + "\n" + kService + "\n" + kService2 + "\n" +
                     kBenService + "\n" + kTraining + "\n" + kAttendance + "\n")
                  .ok());
  std::vector<std::string> deleted;
  writer_.on_change = [&](storage::WriteTxn&, const protocol::Change& change) {
    EXPECT_TRUE(change.deleted);
    deleted.push_back(protocol::RecordName(change.collection, change.id));
  };
  DeleteResult result;
  ASSERT_TRUE(DeleteRecord(writer_, "participants", "MAS-P1", true, &result).ok());
  EXPECT_EQ(result.cascaded, (std::map<std::string, size_t>{{"attendance", 1}, {"services", 2}}));
  EXPECT_EQ(
      DeleteSummary("participants", "MAS-P1", result),
      "deleted participants/MAS-P1 and 3 records that referenced it: 1 attendance, 2 services");
  // The referring records are logged first, the participant last.
  ASSERT_EQ(deleted.size(), 4u);
  EXPECT_EQ(deleted.back(), "participants/MAS-P1");
  EXPECT_EQ(std::set<std::string>(deleted.begin(), deleted.end() - 1),
            (std::set<std::string>{"services/MAS-S1", "services/MAS-S2", "attendance/MAS-A1"}));
  for (const char* id : {"MAS-S1", "MAS-S2"}) EXPECT_FALSE(Exists("services", id));
  EXPECT_FALSE(Exists("attendance", "MAS-A1"));
  // Records referencing others stay.
  EXPECT_TRUE(Exists("services", "MAS-S3"));
  EXPECT_TRUE(Exists("trainings", "MAS-T1"));
  EXPECT_TRUE(Exists("participants", "MAS-P2"));
  EXPECT_EQ(DeleteSummary("participants", "MAS-P2", {}), "deleted participants/MAS-P2");
}

// --- Export.

TEST_F(RecordsTest, ExportIsSortedAndLeavesOutDeletedRecords) {
  ASSERT_TRUE(LoadDefaultReferenceData(*store_, config::DefaultSchema()).ok());
  std::string text = std::string(kCora) + "\n" + kAna + "\n" + kBen + "\n" + kService + "\n";
  ASSERT_TRUE(Import(text).ok());
  DeleteResult deleted;
  ASSERT_TRUE(DeleteRecord(writer_, "participants", "MAS-P2", false, &deleted).ok());
  std::string site_data = Export("participants") + Export("services");
  EXPECT_EQ(Lines(site_data), (std::vector<std::string>{kAna, kCora, kService}));
  std::vector<std::string> all = Lines(Export());
  EXPECT_TRUE(
      std::is_sorted(all.begin(), all.end(), [](const std::string& a, const std::string& b) {
        auto key = [](const std::string& line) {
          size_t c = line.find("\"collection\":\"") + 14;
          size_t i = line.find("\"id\":\"") + 6;
          return std::make_pair(line.substr(c, line.find('"', c) - c),
                                line.substr(i, line.find('"', i) - i));
        };
        return key(a) < key(b);
      }));
  EXPECT_EQ(std::count(all.begin(), all.end(), std::string(kBen)), 0);
  EXPECT_EQ(Lines(Export("participants", "MAS-P3")), (std::vector<std::string>{kCora}));
  EXPECT_EQ(Export("participants", "MNL-"), "");
  EXPECT_EQ(Export("no_such_collection"), "");
}

TEST_F(RecordsTest, ExportedLinesImportIntoAnotherReplicaUnchanged) {
  ASSERT_TRUE(LoadDefaultReferenceData(*store_, config::DefaultSchema()).ok());
  ASSERT_TRUE(Import(std::string(kAna) + "\n" + kBen + "\n" + kService + "\n").ok());
  ASSERT_TRUE(Put("participants", "MAS-P1",
                  R"({"phone":"+63 917 \"555\"","birth_date":"1990-01-31","sex":"F",)"
                  R"("registered_at":"2023-03-01T08:00:00Z","destination_country":"JP"})")
                  .ok());
  std::string exported = Export("participants") + Export("services");

  osrc::testing::TempDir other_dir("osrc-records-other");
  storage::Store other(other_dir.path(), ScratchEnv());
  ASSERT_TRUE(LoadDefaultReferenceData(other, config::DefaultSchema()).ok());
  Writer other_writer{other, config::DefaultSchema(), clock_, "MAS", false, {}};
  std::istringstream in(exported);
  ImportStats stats;
  ASSERT_TRUE(ImportJsonLines(other_writer, in, "", &stats).ok());
  EXPECT_EQ(stats.changed, 3u);
  std::ostringstream out;
  ExportJsonLines(other, "participants", "", out);
  ExportJsonLines(other, "services", "", out);
  EXPECT_EQ(out.str(), exported);
}

TEST_F(RecordsTest, HubWritesReferenceDataAndAnySitesRecords) {
  Writer hub{*store_, config::DefaultSchema(), clock_, "HUB", true, {}};
  bool changed = false;
  ASSERT_TRUE(PutJson(hub, "countries", "XK", R"({"name":"Kosovo"})", &changed).ok());
  EXPECT_TRUE(changed);
  std::istringstream in(
      std::string(kAna) +
      "\n"
      R"({"collection":"participants","id":"MNL-P1","fields":{"consent":true,"family_name":"D","given_name":"E","site":"MNL"}})"
      "\n");
  ImportStats stats;
  ASSERT_TRUE(ImportJsonLines(hub, in, "", &stats).ok());
  EXPECT_EQ(stats.changed, 2u);
  EXPECT_TRUE(Exists("participants", "MNL-P1"));
}

TEST_F(RecordsTest, CountRecordsCountsLiveRecordsPerCollection) {
  ASSERT_TRUE(Import(std::string(kAna) + "\n" + kBen + "\n" + kCora + "\n").ok());
  DeleteResult deleted;
  ASSERT_TRUE(DeleteRecord(writer_, "participants", "MAS-P2", false, &deleted).ok());
  storage::ReadTxn txn(store_->env());
  EXPECT_EQ(CountRecords(*store_, txn),
            (std::vector<std::pair<std::string, size_t>>{{"participants", 2}}));
}

}  // namespace
}  // namespace osrc::replica

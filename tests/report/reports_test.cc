// Tests of report/reports.h on a store in a temporary folder: each report counts the live records
// by its dimensions, margins included; deleted records never count; dates filter and age bands
// are taken at the report's end date.
#include "report/reports.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "report/report_format.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace osrc::report {
namespace {

using Fields = std::vector<protocol::Field>;

ReportRequest Request(std::string name, std::vector<std::string> by, std::string from = "",
                      std::string to = "", std::string site = "") {
  return {std::move(name), std::move(by), std::move(from), std::move(to), std::move(site)};
}

class ReportsTest : public ::testing::Test {
 protected:
  ReportsTest() : dir_("osrc-reports-test"), store_(dir_.path(), Options()) {
    Put("participants", "MAS-P1",
        {{"sex", "F"}, {"birth_date", "2000-05-10"}, {"registered_at", "2024-02-01T08:00:00Z"}});
    Put("participants", "MAS-P2",
        {{"sex", "M"}, {"birth_date", "1950-01-01"}, {"registered_at", "2024-07-15T08:00:00Z"}});
    Put("participants", "ANT-P1",
        {{"sex", "F"}, {"birth_date", "2006-12-05"}, {"registered_at", "2024-01-03T08:00:00Z"}});
    Put("participants", "MAS-P4", {{"registered_at", "2024-03-03T08:00:00Z"}});
    Put("participants", "MAS-P3", {{"sex", "F"}, {"registered_at", "2024-03-03T08:00:00Z"}});
    Delete("participants", "MAS-P3");
    Put("services", "MAS-S1", {{"service_type", "reintegration"}, {"date", "2024-03-01"}});
    Put("services", "MAS-S2", {{"service_type", "reintegration"}, {"date", "2024-04-11"}});
    Put("trainings", "MAS-T1", {{"course", "fls"}, {"start_date", "2024-05-01"}});
    Put("attendance", "MAS-A1", {{"training_id", "MAS-T1"}, {"attended", true}});
    Put("attendance", "MAS-A2", {{"training_id", "MAS-T1"}, {"attended", false}});
  }

  static storage::EnvOptions Options() {
    storage::EnvOptions options;
    options.map_size = size_t{16} << 20;
    options.durable = false;
    return options;
  }
  void Put(const std::string& collection, const std::string& id, Fields fields) {
    storage::WriteTxn txn(store_.env());
    store_.Apply(txn, {collection, id, "MAS", 0, ++stamp_, 0, false, std::move(fields)});
    txn.Commit();
  }
  void Delete(const std::string& collection, const std::string& id) {
    storage::WriteTxn txn(store_.env());
    store_.Apply(txn, {collection, id, "MAS", 0, ++stamp_, 0, true, {}});
    txn.Commit();
  }
  // Each cell's dimension values joined by "/", with its count.
  std::map<std::string, uint64_t> Counts(ReportRequest request, Status* status = nullptr) {
    CountTable table({});
    storage::ReadTxn txn(store_.env());
    Status built = BuildReport(store_, txn, request, "2024-12-31", &table);
    if (status != nullptr) *status = built;
    std::map<std::string, uint64_t> counts;
    for (size_t cell = 0; cell < table.size(); ++cell) {
      std::string key;
      std::vector<size_t> coords = table.CoordsOf(cell);
      for (size_t d = 0; d < coords.size(); ++d) {
        const auto& levels = table.dims()[d].levels;
        key += (d ? "/" : "") + (coords[d] == levels.size() ? "Total" : levels[coords[d]]);
      }
      counts[key] = table.count(cell);
    }
    return counts;
  }

  testing::TempDir dir_;
  storage::Store store_;
  uint64_t stamp_ = 1000;
};

TEST_F(ReportsTest, ParticipantsBySiteAndSexWithMarginsAndNoDeletedRecord) {
  std::map<std::string, uint64_t> expected = {
      {"ANT/F", 1},         {"ANT/Total", 1},   {"MAS/F", 1},   {"MAS/M", 1},
      {"MAS/unknown", 1},   {"MAS/Total", 3},   {"Total/F", 2}, {"Total/M", 1},
      {"Total/unknown", 1}, {"Total/Total", 4}, {"ANT/M", 0},   {"ANT/unknown", 0}};
  EXPECT_EQ(Counts(Request("participants", {"site", "sex"})), expected);
  EXPECT_EQ(Counts(Request("participants", {})), (std::map<std::string, uint64_t>{{"", 4}}));
}

TEST_F(ReportsTest, AgeBandsAreTakenAtTheEndDate) {
  auto at = [&](std::string to) { return Counts(Request("participants", {"age_band"}, "", to)); };
  // ANT-P1 turns 18 on 2024-12-05.
  EXPECT_EQ(at("2024-12-04")["0-17"], 1u);
  EXPECT_EQ(at("2024-12-05")["0-17"], 0u);
  EXPECT_EQ(at("2024-12-05")["18-24"], 2u);  // with MAS-P1, 24
  EXPECT_EQ(at("2024-12-05")["60+"], 1u);
  EXPECT_EQ(at("2024-12-05")["unknown"], 1u);
}

TEST_F(ReportsTest, DatesFilterAndGroupByQuarterAndMonth) {
  EXPECT_EQ(Counts(Request("participants", {"registered_quarter"}, "2024-01-01", "2024-06-30")),
            (std::map<std::string, uint64_t>{{"2024-Q1", 3}, {"Total", 3}}));
  EXPECT_EQ(Counts(Request("services", {"month"}, "2024-04-01")),
            (std::map<std::string, uint64_t>{{"2024-04", 1}, {"Total", 1}}));
  EXPECT_EQ(Counts(Request("participants", {"site"}, "", "", "ANT")),
            (std::map<std::string, uint64_t>{{"ANT", 1}, {"Total", 1}}));
}

TEST_F(ReportsTest, TrainingsCountAttendanceByTheTrainingsCourse) {
  EXPECT_EQ(Counts(Request("trainings", {"course", "attended"})),
            (std::map<std::string, uint64_t>{{"fls/false", 1},
                                             {"fls/true", 1},
                                             {"fls/Total", 2},
                                             {"Total/false", 1},
                                             {"Total/true", 1},
                                             {"Total/Total", 2}}));
}

TEST_F(ReportsTest, UnknownReportsAndDimensionsAreNamed) {
  Status status;
  Counts(Request("people", {}), &status);
  EXPECT_EQ(status.what(),
            "no report \"people\"; reports: participants, services, referrals, trainings");
  Counts(Request("services", {"sex"}), &status);
  EXPECT_EQ(status.ToString(),
            "--by: report services has no dimension \"sex\"; it has site, service_type, outcome, "
            "month");
  Counts(Request("services", {"month", "month"}), &status);
  EXPECT_EQ(status.what(), "dimension \"month\" given twice");
  Counts(Request("services", {}, "2024-13-01"), &status);
  EXPECT_EQ(status.ToString(), "--from: not a date (YYYY-MM-DD): 2024-13-01");
}

TEST_F(ReportsTest, CsvHasOneRowPerCellAndShowsSuppressedCountsAsC) {
  CountTable table({});
  ReportRequest request = Request("participants", {"site"});
  storage::ReadTxn txn(store_.env());
  ASSERT_TRUE(BuildReport(store_, txn, request, "2024-12-31", &table).ok());
  EXPECT_EQ(FormatReport(request, table, Suppress(table, 5), 5, Format::kCsv),
            "site,count\nANT,c\nMAS,c\nTotal,c\n");
  EXPECT_EQ(FormatReport(request, table, Suppress(table, 1), 1, Format::kCsv),
            "# NOT FOR PUBLICATION: no disclosure control (--k 1)\nsite,count\nANT,1\nMAS,3\n"
            "Total,4\n");
}

}  // namespace
}  // namespace osrc::report

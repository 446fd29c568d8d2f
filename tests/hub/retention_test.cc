// Tests of hub/retention.h and hub.toml's retention periods: periods parse or are refused, the
// cutoff counts back calendar years, months and days, and the plan picks what the README says:
// a root by the latest activity of itself and its referrers, other records by their roots, the
// write day when a record holds no date, personal dates never, and each record's referrers.
#include "hub/retention.h"

#include <gtest/gtest.h>

#include "config/schema_loader.h"
#include "storage/hlc.h"
#include "tests/support/temp_dir.h"

namespace osrc::hub {
namespace {

using Fields = std::vector<protocol::Field>;

TEST(RetentionPeriod, ParsesWholeYearsMonthsAndDays) {
  config::RetentionPeriod period;
  ASSERT_TRUE(config::ParseRetentionPeriod("10y", &period));
  EXPECT_EQ(period.years, 10);
  ASSERT_TRUE(config::ParseRetentionPeriod("18m", &period));
  EXPECT_EQ(period.months, 18);
  EXPECT_EQ(period.years, 0);
  ASSERT_TRUE(config::ParseRetentionPeriod("400d", &period));
  EXPECT_EQ(period.days, 400);
  for (const char* bad : {"", "y", "0y", "-1y", "10", "10 y", "1.5y", "10w", "201y", "y10"}) {
    EXPECT_FALSE(config::ParseRetentionPeriod(bad, &period)) << bad;
  }
}

TEST(RetentionCutoff, CountsBackCalendarYearsMonthsAndDays) {
  auto cutoff = [](std::string_view as_of, const char* text) {
    config::RetentionPeriod period;
    EXPECT_TRUE(config::ParseRetentionPeriod(text, &period));
    return RetentionCutoff(as_of, period);
  };
  EXPECT_EQ(cutoff("2026-12-04", "5y"), "2021-12-04");
  EXPECT_EQ(cutoff("2024-02-29", "1y"), "2023-02-28");  // no 29 February in 2023
  EXPECT_EQ(cutoff("2026-03-31", "1m"), "2026-02-28");
  EXPECT_EQ(cutoff("2026-01-15", "18m"), "2024-07-15");
  EXPECT_EQ(cutoff("2026-03-01", "1d"), "2026-02-28");
  EXPECT_EQ(cutoff("2026-12-04", "365d"), "2025-12-04");
}

class RetentionPlanTest : public ::testing::Test {
 protected:
  RetentionPlanTest() : dir_("osrc-retention-test"), store_(dir_.path(), Options()) {}

  static storage::EnvOptions Options() {
    storage::EnvOptions options;
    options.map_size = size_t{16} << 20;
    options.durable = false;
    return options;
  }
  // Written on `day` (the stamp's day), with `fields`.
  void Put(const std::string& collection, const std::string& id, Fields fields,
           const std::string& day = "2026-01-01") {
    uint64_t millis = static_cast<uint64_t>(config::DayOf(day)) * 86'400'000;
    storage::WriteTxn txn(store_.env());
    store_.Apply(txn, {collection, id, "MAS", 0, storage::StampOf(millis, ++counter_), 0, false,
                       std::move(fields)});
    txn.Commit();
  }
  RetentionPlan Plan(std::map<std::string, std::string> periods, std::string_view as_of,
                     Status* status = nullptr) {
    RetentionPlan plan;
    storage::ReadTxn txn(store_.env());
    Status planned = PlanRetention(store_, txn, config::DefaultSchema(), periods, as_of, &plan);
    if (status != nullptr) *status = planned;
    EXPECT_TRUE(status != nullptr || planned.ok()) << planned.ToString();
    return plan;
  }
  static std::vector<std::string> Due(const RetentionPlan& plan) {
    std::vector<std::string> out;
    for (const RetentionItem& item : plan.due) {
      out.push_back(item.collection + "/" + item.id + "@" + item.last_activity);
    }
    return out;
  }
  static std::vector<std::string> Erased(const RetentionPlan& plan) {
    std::vector<std::string> out;
    for (const replica::ErasedRecord& record : plan.erase) {
      out.push_back(record.collection + "/" + record.id);
    }
    return out;
  }

  osrc::testing::TempDir dir_;
  storage::Store store_;
  uint16_t counter_ = 0;
};

TEST_F(RetentionPlanTest, ARecentServiceKeepsItsParticipantAndOlderServices) {
  Put("participants", "MAS-P1",
      {{"registered_at", "2010-01-05T08:00:00Z"}, {"birth_date", "1970-01-01"}});
  Put("participants", "MAS-P2", {{"registered_at", "2010-01-05T08:00:00Z"}});
  Put("services", "MAS-S1", {{"participant_id", "MAS-P1"}, {"date", "2011-03-01"}});
  Put("services", "MAS-S2", {{"participant_id", "MAS-P2"}, {"date", "2012-03-01"}});
  Put("services", "MAS-S3", {{"participant_id", "MAS-P2"}, {"date", "2024-06-01"}});
  Put("referrals", "MAS-R1", {{"participant_id", "MAS-P1"}, {"date", "2011-04-01"}});
  RetentionPlan plan = Plan({{"participants", "10y"}, {"services", "5y"}}, "2026-12-04");
  EXPECT_EQ(Due(plan), (std::vector<std::string>{"participants/MAS-P1@2011-04-01",
                                                 "services/MAS-S1@2011-04-01"}));
  // The participant takes its services and referrals with it.
  EXPECT_EQ(Erased(plan), (std::vector<std::string>{"participants/MAS-P1", "services/MAS-S1",
                                                    "referrals/MAS-R1"}));
}

TEST_F(RetentionPlanTest, TheCutoffDayItselfIsKept) {
  Put("participants", "MAS-P1", {{"registered_at", "2016-12-04T00:00:00Z"}});
  Put("participants", "MAS-P2", {{"registered_at", "2016-12-03T23:59:59Z"}});
  EXPECT_EQ(Due(Plan({{"participants", "10y"}}, "2026-12-04")),
            (std::vector<std::string>{"participants/MAS-P2@2016-12-03"}));
}

TEST_F(RetentionPlanTest, WithoutADateTheWriteDayCountsButNeverAPersonalDate) {
  Put("participants", "MAS-P1", {{"birth_date", "1960-01-01"}}, "2020-06-01");
  Put("participants", "MAS-P2", {{"family_name", "Santos"}}, "2012-06-01");
  EXPECT_EQ(Due(Plan({{"participants", "10y"}}, "2026-12-04")),
            (std::vector<std::string>{"participants/MAS-P2@2012-06-01"}));
}

TEST_F(RetentionPlanTest, TrainingsAreRootsKeptByTheirAttendance) {
  Put("participants", "MAS-P1", {{"registered_at", "2024-01-01T00:00:00Z"}});
  Put("trainings", "MAS-T1", {{"start_date", "2012-01-01"}, {"end_date", "2012-01-05"}});
  Put("trainings", "MAS-T2", {{"start_date", "2012-01-01"}});
  Put("attendance", "MAS-A1", {{"training_id", "MAS-T1"}, {"participant_id", "MAS-P1"}});
  RetentionPlan plan = Plan({{"trainings", "10y"}, {"attendance", "10y"}}, "2026-12-04");
  // MAS-T1's attendance was written in 2026; MAS-A1 has a recent participant.
  EXPECT_EQ(Due(plan), (std::vector<std::string>{"trainings/MAS-T2@2012-01-01"}));
}

TEST_F(RetentionPlanTest, DeletedRecordsAreNotPlannedAndPeriodsAreChecked) {
  Put("participants", "MAS-P1", {{"registered_at", "2010-01-05T08:00:00Z"}});
  {
    storage::WriteTxn txn(store_.env());
    store_.Apply(
        txn,
        {"participants", "MAS-P1", "MAS", 0, storage::StampOf(uint64_t{1} << 42, 1), 0, true, {}});
    txn.Commit();
  }
  EXPECT_TRUE(Plan({{"participants", "1y"}}, "2026-12-04").due.empty());
  Status status;
  Plan({{"countries", "1y"}}, "2026-12-04", &status);
  EXPECT_EQ(status.ToString(),
            "hub.toml: [retention] countries: reference data is not kept per person");
  Plan({{"visits", "1y"}}, "2026-12-04", &status);
  EXPECT_EQ(status.ToString(), "hub.toml: [retention] visits: no such collection");
}

}  // namespace
}  // namespace osrc::hub

// The published reports: counts of the hub's merged live records by dimensions, with filters.
//   participants  site, province, sex, age_band, migration_status, destination_country,
//                 civil_status, registered (year), registered_quarter; dated by registered_at
//   services      site, service_type, outcome, month; dated by date
//   referrals     site, agency, status, month; dated by date
//   trainings     site, course, attended, completed (attendance records); dated by the
//                 training's start_date
// A missing value counts as "unknown". Age bands are taken at the report's end date.
// Thread-compatible; reads in the caller's transaction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "report/count_table.h"
#include "storage/store.h"

namespace osrc::report {

struct ReportRequest {
  std::string name;
  std::vector<std::string> by;
  std::string from;  // YYYY-MM-DD, inclusive; empty: from the start
  std::string to;    // YYYY-MM-DD, inclusive; empty: up to `today`
  std::string site;  // empty: every site
};

std::vector<std::string_view> ReportNames();
// The dimensions of `report`; empty for an unknown report.
std::vector<std::string_view> DimensionsOf(std::string_view report);

// Counts the records `request` selects; `today` (YYYY-MM-DD) ends an open period.
Status BuildReport(const storage::Store& store, const storage::Txn& txn,
                   const ReportRequest& request, std::string_view today, CountTable* out);

}  // namespace osrc::report

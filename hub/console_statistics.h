// The console's Statistics page: the published reports (report/reports.h) chosen in a form, shown
// as HTML tables with their margins and as inline SVG bar charts, counts under disclosure
// control shown as "c" (an empty bar). Rendering only, from plain data: console_server.cc runs
// the report. Thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "hub/console_pages.h"
#include "report/count_table.h"
#include "report/disclosure.h"
#include "report/reports.h"

namespace osrc::hub {

// The form's fields as the request gave them.
struct StatisticsForm {
  std::string report;           // empty: nothing asked yet
  std::vector<std::string> by;  // dimensions, in order
  std::string from, to, site;
  std::string k;  // empty: hub.toml's [report] k
};

// Checks `form` and makes the report request and threshold from it: k from 3 up, or 1 (no
// disclosure control) for admins only; `default_k` when the form leaves it empty.
Status StatisticsRequestOf(const StatisticsForm& form, Role role, uint64_t default_k,
                           report::ReportRequest* request, uint64_t* k);

struct StatisticsResult {
  report::ReportRequest request;
  report::CountTable table{{}};
  report::Suppression suppression;
  uint64_t k = 0;
};

// The query string that asks for `form` again (for the CSV link).
std::string StatisticsQuery(const StatisticsForm& form);
// The form (`default_k`: hub.toml's), then `result`'s chart and tables when there is one.
std::string StatisticsPageHtml(const StatisticsForm& form, const StatisticsResult* result,
                               uint64_t default_k, const PageContext& ctx);
// Bars of the first dimension's levels (its Total left out), grouped by the second dimension's
// levels when there is one; other dimensions at Total. A suppressed count is an empty bar "c".
std::string ReportChartSvg(const report::CountTable& table, const report::Suppression& s);
// "participants-by-site-sex.csv".
std::string StatisticsFileName(const report::ReportRequest& request);

}  // namespace osrc::hub

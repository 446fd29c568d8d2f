// Tests of hub/console_statistics.h: the form's k is checked (k = 1 for admins only), a
// suppressed count shows as c in the tables and as an empty bar in the chart, a working table
// says it is not for publication, the page has no script, and the CSV link asks for the same
// report.
#include "hub/console_statistics.h"

#include <gtest/gtest.h>

#include "tests/hub/page_support.h"

namespace osrc::hub {
namespace {

using testing::Admin;
using testing::Count;
using testing::Viewer;

// sex x site: F/MAS 12, F/ANT 2, M/MAS 9, M/ANT 7.
StatisticsResult SmallResult(uint64_t k) {
  StatisticsResult r;
  r.request = {"participants", {"sex", "site"}, "", "", ""};
  r.table = report::CountTable({{"sex", {"F", "M"}}, {"site", {"ANT", "MAS"}}});
  r.table.Add({0, 0}, 2);
  r.table.Add({0, 1}, 12);
  r.table.Add({1, 0}, 7);
  r.table.Add({1, 1}, 9);
  r.k = k;
  r.suppression = report::Suppress(r.table, k);
  return r;
}

TEST(ConsoleStatisticsTest, KIsCheckedAndUnprotectedTablesAreForAdminsOnly) {
  report::ReportRequest request;
  uint64_t k = 0;
  StatisticsForm form{"participants", {"sex", "", "site"}, "2024-01-01", "", "MAS", ""};
  ASSERT_TRUE(StatisticsRequestOf(form, Role::kViewer, 5, &request, &k).ok());
  EXPECT_EQ(k, 5u);
  EXPECT_EQ(request.by, (std::vector<std::string>{"sex", "site"}));  // the empty select skipped
  EXPECT_EQ(request.from, "2024-01-01");
  EXPECT_EQ(request.site, "MAS");
  form.k = "1";
  EXPECT_EQ(StatisticsRequestOf(form, Role::kViewer, 5, &request, &k).code(),
            ErrorCode::kForbidden);
  ASSERT_TRUE(StatisticsRequestOf(form, Role::kAdmin, 5, &request, &k).ok());
  EXPECT_EQ(k, 1u);
  for (const char* bad : {"2", "0", "x", "3x", "1001", "-5"}) {
    form.k = bad;
    EXPECT_EQ(StatisticsRequestOf(form, Role::kAdmin, 5, &request, &k).code(), ErrorCode::kBadInput)
        << bad;
  }
}

TEST(ConsoleStatisticsTest, SuppressedCountsShowAsCInTablesAndChart) {
  StatisticsResult result = SmallResult(5);
  ASSERT_GT(result.suppression.primary, 0u);
  StatisticsForm form{"participants", {"sex", "site"}, "", "", "", ""};
  std::string html = StatisticsPageHtml(form, &result, 5, Viewer());
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find(">2<"), std::string::npos) << "the count 2 is published";
  size_t hidden = result.suppression.primary + result.suppression.secondary;
  EXPECT_EQ(Count(html, "<td class=\"n\">c</td>"), hidden);
  // In the chart: the hidden cells of the sex x site body, drawn as empty bars.
  std::string svg = ReportChartSvg(result.table, result.suppression);
  size_t hidden_body = 0;
  for (size_t cell = 0; cell < result.table.size(); ++cell) {
    if (result.suppression.hidden[cell] && !result.table.IsTotal(cell, 0) &&
        !result.table.IsTotal(cell, 1)) {
      ++hidden_body;
    }
  }
  EXPECT_EQ(Count(svg, "fill=\"none\""), hidden_body);
  EXPECT_EQ(Count(svg, "<rect"), 4u);
  EXPECT_NE(html.find("href=\"/statistics.csv?report=participants&amp;by=sex&amp;by=site\""),
            std::string::npos);
  EXPECT_EQ(html.find("NOT FOR PUBLICATION"), std::string::npos);
}

TEST(ConsoleStatisticsTest, AWorkingTableShowsEveryCountAndSaysItIsNotForPublication) {
  StatisticsResult result = SmallResult(1);
  StatisticsForm form{"participants", {"sex", "site"}, "", "", "", "1"};
  std::string html = StatisticsPageHtml(form, &result, 5, Admin());
  EXPECT_NE(html.find("NOT FOR PUBLICATION"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"n\">2</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"n\">30</td>"), std::string::npos);  // the grand total
  EXPECT_EQ(html.find(">c<"), std::string::npos);
  EXPECT_EQ(StatisticsFileName(result.request), "participants-by-sex-site.csv");
}

TEST(ConsoleStatisticsTest, TheFormAloneListsTheChosenReportsDimensions) {
  StatisticsForm form{"services", {}, "", "", "", ""};
  std::string html = StatisticsPageHtml(form, nullptr, 5, Viewer());
  EXPECT_NE(html.find("<option value=\"service_type\""), std::string::npos);
  EXPECT_EQ(html.find("<option value=\"age_band\""), std::string::npos);
  EXPECT_EQ(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("placeholder=\"5\""), std::string::npos);
}

}  // namespace
}  // namespace osrc::hub

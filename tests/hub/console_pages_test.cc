// Tests of hub/console_pages.h: values escaped, the chart's bars from known counts, forms carry
// the CSRF token, viewers get no change forms, the Sites page shows each site's state.
#include "hub/console_pages.h"

#include <gtest/gtest.h>

#include <regex>

#include "tests/hub/page_support.h"

namespace osrc::hub {
namespace {

using testing::Admin;
using testing::Count;
using testing::Viewer;

nlohmann::json Conflict(const std::string& kept, const std::string& lost) {
  return {
      {"conflict", "00112233aabbccdd"},
      {"collection", "participants"},
      {"id", "MAS-P1"},
      {"field", "occupation"},
      {"personal", false},
      {"winner",
       {{"origin", "MAS"}, {"time", "2026-12-04T10:00:00Z"}, {"deleted", false}, {"value", kept}}},
      {"loser", {{"origin", "MNL"}, {"time", "2026-12-04T09:00:00Z"}, {"value", lost}}}};
}

TEST(ConsolePagesTest, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\">Tom & 'Jerry'</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("plain"), "plain");
}

TEST(ConsolePagesTest, StoredValuesAreEscapedOnTheConflictsPage) {
  std::string html = ConflictsPageHtml({Conflict("<script>alert(1)</script>", "a\"b")}, 1,
                                       {.site = "<x>", .collection = "", .field = ""}, Admin());
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("a&quot;b"), std::string::npos);
  EXPECT_NE(html.find("value=\"&lt;x&gt;\""), std::string::npos);  // the filter echoed
}

TEST(ConsolePagesTest, ChartHasOneBarPerHourWithChangesScaledToThePeak) {
  const uint64_t now = 500'000;
  std::map<uint64_t, uint64_t> counts = {
      {now - kChartHours, 99999},   // eight days ago: outside the chart
      {now - kChartHours + 1, 10},  // the first hour shown: x = 0
      {now - 1, 0},                 // no changes: no bar
      {now, 40},                    // the last hour: the peak, full height
  };
  std::string svg = ChangesChartSvg(counts, now);
  EXPECT_EQ(Count(svg, "<rect"), 2u);
  EXPECT_NE(svg.find("<rect x=\"0\" y=\"45\" width=\"1.6\" height=\"15\""), std::string::npos)
      << svg;  // 10 of 40: a quarter of 60
  EXPECT_NE(svg.find("<rect x=\"" + std::to_string(2 * (kChartHours - 1)) +
                     "\" y=\"0\" width=\"1.6\" height=\"60\""),
            std::string::npos)
      << svg;
  EXPECT_NE(svg.find("(peak 40)"), std::string::npos);
  EXPECT_EQ(Count(ChangesChartSvg({}, now), "<rect"), 0u);
}

TEST(ConsolePagesTest, AdminGetsResolveFormsEachWithTheCsrfToken) {
  std::string html = ConflictsPageHtml({Conflict("fisher", "farmer")}, 1, {}, Admin());
  EXPECT_EQ(Count(html, "action=\"/conflicts/resolve\""), 3u);
  // Every form that posts carries the token: the three, and log out.
  EXPECT_EQ(Count(html, "method=\"post\""), 4u);
  EXPECT_EQ(Count(html, "name=\"csrf\" value=\"" + std::string(64, 'c') + "\""), 4u);
  EXPECT_NE(html.find("from MNL at 2026-12-04T09:00:00Z"), std::string::npos);
}

TEST(ConsolePagesTest, ViewerGetsNoChangeForms) {
  std::string conflicts = ConflictsPageHtml({Conflict("fisher", "farmer")}, 1, {}, Viewer());
  EXPECT_EQ(Count(conflicts, "/conflicts/resolve"), 0u);
  HubStatus status;
  status.reference["courses"] = 3;
  EXPECT_EQ(Count(ReferencePageHtml(status, Viewer()), "/reference/import"), 0u);
  EXPECT_EQ(Count(ReferencePageHtml(status, Admin()), "/reference/import"), 1u);
  std::vector<Operator> ops = {{"alice", Role::kAdmin, "hash", 0}};
  std::string operators = OperatorsPageHtml(ops, Viewer());
  EXPECT_EQ(Count(operators, "/operators/"), 0u);
  EXPECT_EQ(operators.find("hash"), std::string::npos);
  EXPECT_EQ(Count(OperatorsPageHtml(ops, Admin()), "/operators/"), 2u);  // remove, add
}

TEST(ConsolePagesTest, SitesPageShowsEachSitesStateAndUnknownFieldsAsDashes) {
  HubStatus status;
  status.now_ms = 1'000'000'000'000;
  status.log_head = 42;
  SiteStatus mas;
  mas.entry.code = "MAS";
  mas.entry.name = "Masbate <north>";
  mas.entry.acked = 1234;
  mas.entry.cursor = 40;
  mas.entry.last_contact_ms = status.now_ms - 1000;
  mas.entry.clock_skew_ms = -1500;
  mas.online = true;
  mas.conflicts = 2;
  SiteStatus ant = mas;
  ant.entry.code = "ANT";
  ant.entry.name = "";
  ant.online = false;
  status.sites = {mas, ant};
  std::string html = SitesPageHtml(status, {{"MAS", {{status.now_ms / 3600000, 7}}}}, Admin());
  EXPECT_NE(html.find("<tr data-site=\"MAS\"><td>MAS — Masbate &lt;north&gt;</td><td "
                      "class=\"on\">online</td>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<tr data-site=\"ANT\"><td>ANT</td><td class=\"off\">offline</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<td>1234</td><td>—</td><td>—</td><td>2</td><td>-1.5 s</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<td>40 of 42</td>"), std::string::npos);
  EXPECT_NE(html.find("1 of 2 sites online"), std::string::npos);
  EXPECT_EQ(Count(html, "<svg"), 2u);  // a chart per site
  EXPECT_EQ(Count(html, "<rect"), 1u);
  EXPECT_NE(html.find("<meta name=\"viewport\""), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // nothing fetched
}

}  // namespace
}  // namespace osrc::hub

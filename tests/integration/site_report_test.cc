// What a site reports of itself reaches the hub, and the console's chart of changes received
// per hour outlives a hub restart, with the real osrc-hub (console on) and osrc-node run:
// after the site's changes are in, its keep-alive Hello reports nothing left to send with its
// measured round trip, `osrc-hub status --json` shows it, and the Sites page shows the hour's
// bar before and after the hub restarts.
#include <gtest/gtest.h>
#include <httplib.h>

#include <regex>
#include <string>

#include "tests/support/cluster.h"

namespace osrc::testing {
namespace {

constexpr char kPassword[] = "report-test-password";

nlohmann::json SiteOf(const ClusterHub& hub, const std::string& code) {
  nlohmann::json status = nlohmann::json::parse(hub.Cli({"status", "--json"}));
  for (const nlohmann::json& site : status["sites"]) {
    if (site["site"] == code) return site;
  }
  return {};
}

// The changes the Sites page's charts show: the sum of their bars ("TIME: N" titles).
uint64_t ChartedChanges(const std::string& page) {
  uint64_t sum = 0;
  std::regex bar(": ([0-9]+)</title></rect>");
  for (auto it = std::sregex_iterator(page.begin(), page.end(), bar); it != std::sregex_iterator();
       ++it) {
    sum += std::stoull((*it)[1].str());
  }
  return sum;
}

// The Sites page, logged in as the test's admin.
std::string SitesPage(const ClusterHub& hub) {
  std::string address = hub.ConsoleAddress();
  httplib::Client client("http://" + address);
  httplib::Result form = client.Get("/login");
  std::smatch token;
  if (!form ||
      !std::regex_search(form->body, token, std::regex("name=\"csrf\" value=\"([0-9a-f]+)\""))) {
    return "no login form";
  }
  std::string login_cookie = form->get_header_value("Set-Cookie");
  httplib::Result login =
      client.Post("/login", {{"Cookie", login_cookie.substr(0, login_cookie.find(';'))}},
                  "csrf=" + token[1].str() + "&name=admin&password=" + std::string(kPassword),
                  "application/x-www-form-urlencoded");
  if (!login || login->status != 303) return "login failed";
  std::string cookie = login->get_header_value("Set-Cookie");
  httplib::Result page = client.Get("/sites", {{"Cookie", cookie.substr(0, cookie.find(';'))}});
  return page && page->status == 200 ? page->body : "no page";
}

TEST(SiteReport, BacklogAndLinkReachTheHubAndTheHourlyChartOutlivesARestart) {
  TempDir tmp("osrc-site-report");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  ASSERT_TRUE(RunProcess(BinArgs("osrc-hub", {"operator", "add", "--data", hub.dir(), "admin",
                                              "--role", "admin"}),
                         std::string(kPassword) + "\n")
                  .ok());
  hub.Start(/*with_console=*/true);
  mas.Import(
      GenerateSample(tmp, "MAS", {"--participants", "20", "--services-per", "1"}, "mas.jsonl"));
  mas.Start();
  nlohmann::json site;
  ASSERT_TRUE(PollUntil(DeadlineIn(std::chrono::seconds(60)), [&] {
    site = SiteOf(hub, "MAS");
    return site["acked"] == 40 && site["round_trip_ms"].get<uint64_t>() > 0;
  })) << site.dump();
  EXPECT_EQ(site["to_send"], 0);
  EXPECT_GT(site["reported_ms"].get<uint64_t>(), 0u);
  EXPECT_TRUE(Contains(hub.Cli({"status"}), "to send")) << hub.Cli({"status"});

  std::string before = SitesPage(hub);
  EXPECT_EQ(ChartedChanges(before), 40u) << before;
  EXPECT_TRUE(Contains(before, " ms</td>")) << "no round trip on the Sites page";
  mas.Stop();
  hub.Stop();
  hub.Start(/*with_console=*/true);
  std::string after = SitesPage(hub);
  EXPECT_EQ(ChartedChanges(after), 40u) << "the chart lost its hours:\n" << after;
  EXPECT_EQ(SiteOf(hub, "MAS")["round_trip_ms"], site["round_trip_ms"]);
}

}  // namespace
}  // namespace osrc::testing

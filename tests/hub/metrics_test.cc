// Tests of hub/metrics.h: the text format of a small fixture, line by line, as Prometheus reads it.
#include "hub/metrics.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace osrc::hub {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool Has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

HubStatus Fixture() {
  HubStatus status;
  status.conflicts = 3;
  status.store_used_bytes = 4096 * 5;
  status.store_map_bytes = 1 << 30;
  SiteStatus mas;
  mas.entry.code = "MAS";
  mas.entry.last_contact_ms = 1'764'849'600'500;
  mas.online = true;
  mas.pending_delivery = 7;
  SiteStatus kab;
  kab.entry.code = "KAB";
  SiteStatus old;
  old.entry.code = "OLD";
  old.entry.revoked = true;
  status.sites = {mas, kab, old};
  return status;
}

TEST(Metrics, StoreMetricsOfAFixture) {
  std::vector<std::string> lines = Lines(RenderMetrics(Fixture(), nullptr));
  for (const char* line : {
           "# TYPE osrc_site_connected gauge",
           "osrc_site_connected{site=\"MAS\"} 1",
           "osrc_site_connected{site=\"KAB\"} 0",
           "# TYPE osrc_site_last_contact_timestamp_seconds gauge",
           "osrc_site_last_contact_timestamp_seconds{site=\"MAS\"} 1764849600.5",
           "osrc_site_last_contact_timestamp_seconds{site=\"KAB\"} 0",
           "osrc_site_pending_changes{site=\"MAS\"} 7",
           "osrc_site_pending_changes{site=\"KAB\"} 0",
           "# TYPE osrc_conflicts_open gauge",
           "osrc_conflicts_open 3",
           "osrc_store_used_bytes 20480",
           "osrc_store_map_bytes 1073741824",
       }) {
    EXPECT_TRUE(Has(lines, line)) << "missing: " << line << "\n"
                                  << RenderMetrics(Fixture(), nullptr);
  }
  // A revoked site is no longer watched; the daemon's counters are absent without it.
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find("OLD"), std::string::npos) << line;
    EXPECT_EQ(line.find("osrc_changes_received_total"), std::string::npos) << line;
  }
}

TEST(Metrics, LiveCountersOfTheDaemon) {
  LiveMetrics live;
  live.AddReceived("MAS", 120);
  live.AddReceived("MAS", 5);
  live.AddDelivered("KAB", 9);
  live.CountRefused("not_enrolled");
  live.CountRefused("not_enrolled");
  live.ObserveCommit(0.003);
  live.ObserveCommit(0.2);
  std::string text = RenderMetrics(Fixture(), &live);
  std::vector<std::string> lines = Lines(text);
  for (const char* line : {
           "# TYPE osrc_changes_received_total counter",
           "osrc_changes_received_total{site=\"MAS\"} 125",
           "osrc_changes_delivered_total{site=\"KAB\"} 9",
           "osrc_sessions_refused_total{reason=\"not_enrolled\"} 2",
           "# TYPE osrc_push_commit_seconds histogram",
           "osrc_push_commit_seconds_count 2",
           "osrc_push_commit_seconds_sum 0.203",
           "osrc_push_commit_seconds_bucket{le=\"0.0025\"} 0",
           "osrc_push_commit_seconds_bucket{le=\"0.005\"} 1",
           "osrc_push_commit_seconds_bucket{le=\"0.25\"} 2",
           "osrc_push_commit_seconds_bucket{le=\"+Inf\"} 2",
           "osrc_conflicts_open 3",
       }) {
    EXPECT_TRUE(Has(lines, line)) << "missing: " << line << "\n" << text;
  }
}

}  // namespace
}  // namespace osrc::hub

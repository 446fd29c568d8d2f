#include "hub/metrics.h"

#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <sstream>

namespace osrc::hub {
namespace {

// Push commits take milliseconds on a healthy disk; seconds mean trouble.
const prometheus::Histogram::BucketBoundaries kCommitBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

}  // namespace

LiveMetrics::LiveMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      received_(prometheus::BuildCounter()
                    .Name("osrc_changes_received_total")
                    .Help("Changes received from each site since the daemon started")
                    .Register(*registry_)),
      delivered_(prometheus::BuildCounter()
                     .Name("osrc_changes_delivered_total")
                     .Help("Changes delivered to each site since the daemon started")
                     .Register(*registry_)),
      refused_(prometheus::BuildCounter()
                   .Name("osrc_sessions_refused_total")
                   .Help("Sessions refused since the daemon started, by reason")
                   .Register(*registry_)),
      commit_seconds_(prometheus::BuildHistogram()
                          .Name("osrc_push_commit_seconds")
                          .Help("Time the writer took to commit a group of pushes")
                          .Register(*registry_)
                          .Add({}, kCommitBuckets)) {}

void LiveMetrics::AddReceived(const std::string& site, uint64_t changes) {
  received_.Add({{"site", site}}).Increment(static_cast<double>(changes));
}

void LiveMetrics::AddDelivered(const std::string& site, uint64_t changes) {
  delivered_.Add({{"site", site}}).Increment(static_cast<double>(changes));
}

void LiveMetrics::ObserveCommit(double seconds) { commit_seconds_.Observe(seconds); }

void LiveMetrics::CountRefused(const std::string& reason) {
  refused_.Add({{"reason", reason}}).Increment();
}

std::string RenderMetrics(const HubStatus& status, const LiveMetrics* live) {
  prometheus::Registry registry;
  auto& connected = prometheus::BuildGauge()
                        .Name("osrc_site_connected")
                        .Help("1 while the site has a live session, else 0")
                        .Register(registry);
  auto& last_contact = prometheus::BuildGauge()
                           .Name("osrc_site_last_contact_timestamp_seconds")
                           .Help("When the site last had a session (Unix time; 0: never)")
                           .Register(registry);
  auto& pending = prometheus::BuildGauge()
                      .Name("osrc_site_pending_changes")
                      .Help("Changes the hub holds for the site, not yet acknowledged")
                      .Register(registry);
  auto& unsent = prometheus::BuildGauge()
                     .Name("osrc_site_unsent_changes")
                     .Help("Changes the site still has to send the hub, as it last reported")
                     .Register(registry);
  for (const SiteStatus& site : status.sites) {
    if (site.entry.revoked) continue;
    const prometheus::Labels labels = {{"site", site.entry.code}};
    connected.Add(labels).Set(site.online ? 1 : 0);
    last_contact.Add(labels).Set(static_cast<double>(site.entry.last_contact_ms) / 1000.0);
    pending.Add(labels).Set(static_cast<double>(site.pending_delivery));
    unsent.Add(labels).Set(static_cast<double>(ToSend(site.entry)));
  }
  prometheus::BuildGauge()
      .Name("osrc_conflicts_open")
      .Help("Conflicts kept for review and not yet resolved")
      .Register(registry)
      .Add({})
      .Set(static_cast<double>(status.conflicts));
  prometheus::BuildGauge()
      .Name("osrc_store_used_bytes")
      .Help("Bytes of the store's pages in use")
      .Register(registry)
      .Add({})
      .Set(static_cast<double>(status.store_used_bytes));
  prometheus::BuildGauge()
      .Name("osrc_store_map_bytes")
      .Help("Size of the store's memory map: the most it can hold before it grows")
      .Register(registry)
      .Add({})
      .Set(static_cast<double>(status.store_map_bytes));
  std::vector<prometheus::MetricFamily> families = registry.Collect();
  if (live != nullptr) {
    for (prometheus::MetricFamily& family : live->registry().Collect()) {
      families.push_back(std::move(family));
    }
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace osrc::hub

// The hub's Prometheus metrics (text exposition format, prometheus-cpp core). Two sources:
// - what the store knows, read at each scrape (HubStatus): per-site connected, last contact and
//   pending changes; open conflicts; store use and map size;
// - what only the running daemon knows, counted as it goes in a LiveMetrics it owns: changes
//   received and delivered per site, push commit times, refused sessions per reason.
// `osrc-hub metrics` prints the first; the daemon's HTTP endpoint (with the console) both.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "hub/status.h"

namespace osrc::hub {

// Counters of the running daemon. Thread-safe (prometheus-cpp's metrics and families are).
class LiveMetrics {
 public:
  LiveMetrics();
  LiveMetrics(const LiveMetrics&) = delete;
  LiveMetrics& operator=(const LiveMetrics&) = delete;

  void AddReceived(const std::string& site, uint64_t changes);
  void AddDelivered(const std::string& site, uint64_t changes);
  void ObserveCommit(double seconds);
  // `reason`: a short word ("not_enrolled", "revoked", "version", ...).
  void CountRefused(const std::string& reason);

  const prometheus::Registry& registry() const { return *registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& received_;
  prometheus::Family<prometheus::Counter>& delivered_;
  prometheus::Family<prometheus::Counter>& refused_;
  prometheus::Histogram& commit_seconds_;
};

// The text format of the store's metrics from `status`, followed by `live`'s when given.
std::string RenderMetrics(const HubStatus& status, const LiveMetrics* live);

}  // namespace osrc::hub

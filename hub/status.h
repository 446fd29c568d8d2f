// The hub's status report: what `osrc-hub status` prints.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hub/hub.h"
#include "hub/sites.h"

namespace osrc::hub {

struct SiteStatus {
  SiteEntry entry;
  bool online = false;  // a live session at the running daemon now
  size_t records = 0;
  size_t pending_delivery = 0;
  size_t conflicts = 0;
};

struct HubStatus {
  uint64_t now_ms = 0;
  bool running = false;  // a daemon serves this folder
  std::string hub_id;
  std::string bind;
  std::string epoch;  // hex
  uint64_t log_head = 0;
  size_t conflicts = 0;
  std::map<std::string, size_t> reference;  // records per reference collection
  std::vector<SiteStatus> sites;
  size_t store_used_bytes = 0;
  size_t store_map_bytes = 0;
};

// Reads the store's kept counts, not its records: fast at any size.
HubStatus ReadStatus(Hub& hub);
std::string StatusText(const HubStatus& status);
// "now" when online, else how long ago the last contact was ("3d 4h ago", "never").
std::string ContactOf(const SiteStatus& site, uint64_t now_ms);
// "2d 3h", "4h 12m", "7m 3s", "12s": the two largest units of a duration.
std::string DurationOf(uint64_t ms);
std::string StatusJson(const HubStatus& status);

}  // namespace osrc::hub

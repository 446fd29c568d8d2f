#include "hub/status.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "base/text.h"
#include "config/record_json.h"
#include "hub/delivery.h"
#include "hub/online.h"
#include "replica/run_lock.h"
#include "storage/hlc.h"

namespace osrc::hub {
std::string DurationOf(uint64_t ms) {
  uint64_t seconds = ms / 1000;
  const std::pair<uint64_t, const char*> units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
  for (size_t i = 0; i + 1 < std::size(units); ++i) {
    if (seconds < units[i].first) continue;
    return std::to_string(seconds / units[i].first) + units[i].second + " " +
           std::to_string(seconds % units[i].first / units[i + 1].first) + units[i + 1].second;
  }
  return std::to_string(seconds) + "s";
}

std::string ContactOf(const SiteStatus& site, uint64_t now_ms) {
  if (site.online) return "now";
  uint64_t last = site.entry.last_contact_ms;
  if (last == 0) return "never";
  return (now_ms > last ? DurationOf(now_ms - last) : "0s") + " ago";
}

HubStatus ReadStatus(Hub& hub) {
  HubStatus status;
  status.now_ms = hub.clock().NowMillis();
  status.running = replica::DaemonRunning(hub.dir());
  OnlineSites online = ReadOnlineSites(hub.dir());
  storage::Store& store = hub.store();
  status.hub_id = hub.config().hub_id;
  status.bind = hub.config().bind;
  storage::ReadTxn txn(store.env());
  status.epoch = HexOf(store.GetMeta(txn, storage::kMetaEpoch).value_or(""));
  status.log_head = store.LogHead(txn);
  status.conflicts = store.ConflictCount(txn);
  std::map<std::string, size_t> records, conflicts;
  store.ForEachCount(txn,
                     [&](std::string_view collection, std::string_view prefix, uint64_t count) {
                       const config::CollectionSpec* spec = hub.schema().Find(collection);
                       if (spec != nullptr && spec->owner == config::Owner::kSite) {
                         records[std::string(prefix)] += count;
                       } else {
                         status.reference[std::string(collection)] += count;
                       }
                     });
  store.ForEachConflict(txn, [&](const storage::StoredConflict& c) {
    ++conflicts[std::string(config::SiteOfId(c.id))];
  });
  for (SiteEntry& entry : ListSites(store, txn)) {
    SiteStatus site;
    site.records = records[entry.code];
    site.conflicts = conflicts[entry.code];
    site.pending_delivery = PendingDeliveries(store, txn, entry.code, entry.cursor);
    site.online = !entry.revoked && online.contains(entry.code);
    site.entry = std::move(entry);
    status.sites.push_back(std::move(site));
  }
  status.store_used_bytes = store.env().used_bytes();
  status.store_map_bytes = store.env().map_size();
  return status;
}

std::string StatusText(const HubStatus& s) {
  std::ostringstream out;
  out << "hub " << s.hub_id << " on " << s.bind << ", epoch " << s.epoch << "; daemon "
      << (s.running ? "running" : "not running") << "\n"
      << "hub log head " << s.log_head << ", conflicts " << s.conflicts << "\n";
  out << "store " << StoreUseOf(s.store_used_bytes, s.store_map_bytes) << "\n\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-6s %-8s %-12s %-20s %10s %10s %9s %9s %9s %8s\n", "site",
                "state", "contact", "last contact", "acked", "records", "to send", "pending",
                "conflicts", "skew ms");
  out << line;
  for (const SiteStatus& site : s.sites) {
    const char* state = site.entry.revoked ? "revoked" : site.online ? "online" : "offline";
    std::snprintf(line, sizeof line, "%-6s %-8s %-12s %-20s %10llu %10zu %9llu %9zu %9zu %8lld\n",
                  site.entry.code.c_str(), state, ContactOf(site, s.now_ms).c_str(),
                  UtcTimeOf(site.entry.last_contact_ms).c_str(),
                  static_cast<unsigned long long>(site.entry.acked), site.records,
                  static_cast<unsigned long long>(ToSend(site.entry)), site.pending_delivery,
                  site.conflicts, static_cast<long long>(site.entry.clock_skew_ms));
    out << line;
  }
  out << "\nreference data:";
  for (const auto& [collection, count] : s.reference) out << " " << collection << " " << count;
  out << "\n";
  return out.str();
}

std::string StatusJson(const HubStatus& s) {
  nlohmann::ordered_json out;
  out["hub_id"] = s.hub_id;
  out["running"] = s.running;
  out["bind"] = s.bind;
  out["epoch"] = s.epoch;
  out["log_head"] = s.log_head;
  out["conflicts"] = s.conflicts;
  out["store_used_bytes"] = s.store_used_bytes;
  out["store_map_bytes"] = s.store_map_bytes;
  out["store_warning"] = StoreNearlyFull(s.store_used_bytes, s.store_map_bytes);
  out["reference"] = s.reference;
  out["sites"] = nlohmann::ordered_json::array();
  for (const SiteStatus& site : s.sites) {
    nlohmann::ordered_json entry;
    entry["site"] = site.entry.code;
    entry["name"] = site.entry.name;
    entry["revoked"] = site.entry.revoked;
    entry["online"] = site.online;
    entry["last_contact_ms"] = site.entry.last_contact_ms;
    entry["acked"] = site.entry.acked;
    entry["cursor"] = site.entry.cursor;
    entry["records"] = site.records;
    entry["pending_delivery"] = site.pending_delivery;
    entry["conflicts"] = site.conflicts;
    entry["clock_skew_ms"] = site.entry.clock_skew_ms;
    // As the site last reported (reported_ms 0: never): changes it still has to send, the
    // stamp time of the oldest, its link rate (bytes/s) and round trip.
    entry["to_send"] = ToSend(site.entry);
    entry["reported_ms"] = site.entry.report.at_ms;
    entry["oldest_unsent_ms"] = storage::MillisOf(site.entry.report.oldest_unsent);
    entry["link_rate"] = site.entry.report.link_rate;
    entry["round_trip_ms"] = site.entry.report.round_trip_ms;
    out["sites"].push_back(entry);
  }
  return out.dump(2) + "\n";
}

}  // namespace osrc::hub

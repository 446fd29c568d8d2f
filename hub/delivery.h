// What the hub delivers to each site: its own log entries (reference data for every site,
// corrections for the site owning the record), indexed in the `deliver` database as
// dest 0x00 be64(seq) with dest "*" (every site) or a site code. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/schema.h"
#include "hub/seal_cache.h"
#include "protocol/change.h"
#include "protocol/messages.h"
#include "storage/store.h"

namespace osrc::hub {

inline constexpr std::string_view kEverySite = "*";

// The site a hub change goes to: "*" for reference data, else the owner site of the record.
std::string DestinationOf(const config::Schema& schema, const protocol::Change& change);
void IndexDelivery(storage::Store& store, storage::WriteTxn& txn, std::string_view dest,
                   uint64_t seq);

// The next page for `site` after `cursor`: at most `max_entries` entries and, past the first,
// `max_bytes` of change bytes (0: no limit), each sealed through `seals`. `last` is the hub
// sequence up to which the site is then served (the head when nothing more is pending).
protocol::Deliver ReadDeliverPage(storage::Store& store, const storage::Txn& txn, SealCache& seals,
                                  std::string_view site, uint64_t cursor, size_t max_entries,
                                  size_t max_bytes = 0);
// Entries pending for `site` after `cursor`.
size_t PendingDeliveries(storage::Store& store, const storage::Txn& txn, std::string_view site,
                         uint64_t cursor);

}  // namespace osrc::hub

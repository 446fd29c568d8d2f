// Changes received from each site per hour, kept in the hub store for the console's chart:
// `received` database, site 0x00 be64(hour) -> be64 changes, hour = Unix ms / 3,600,000. Counted
// in the transaction that merges them (a push or a bundle), so the chart survives restarts and
// counts each change once. Hours older than kReceivedKeptHours go as new hours come.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "storage/store.h"

namespace osrc::hub {

inline constexpr uint64_t kReceivedKeptHours = 8 * 24;

// site -> hour -> changes.
using HourlyCounts = std::map<std::string, std::map<uint64_t, uint64_t>>;

// Adds `changes` merged from `site` at `now_ms` to its hour.
void CountReceived(storage::Store& store, storage::WriteTxn& txn, std::string_view site,
                   uint64_t now_ms, uint64_t changes);
// Every site's counts from `first_hour` on.
HourlyCounts ReadReceived(storage::Store& store, const storage::Txn& txn, uint64_t first_hour);

}  // namespace osrc::hub

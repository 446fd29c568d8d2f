// Applying what the hub sends a site, whether over the link or in a reply bundle: a Welcome
// (epoch, acknowledged sequence, clock offset and correction) and a Deliver (reference data and
// corrections, applied durably before the cursor advances). Thread-compatible.
#pragma once

#include <spdlog/spdlog.h>

#include "node/node.h"
#include "protocol/messages.h"

namespace osrc::node {

struct WelcomeOutcome {
  uint64_t head = 0;
  uint64_t acked = 0;
  uint64_t cursor = 0;
};

// Inside `txn`: adopts the hub's epoch (a new one resets the cursor, so deliveries are read again,
// and makes the hub changes kept from the old epoch owed to the hub, node/reoffer.h),
// its acknowledged sequence, the clock offset; re-stamps pending changes if this clock ran ahead.
// A live Welcome answers a Hello sent `round_trip_ms` ago: its hub clock was read about half of
// that before it arrived. One from a reply bundle (`live` false) is of unknown age: its hub clock
// only proves this clock behind, never ahead, so it can raise the offset but not lower it.
Status ApplyWelcome(Node& node, storage::WriteTxn& txn, const protocol::Welcome& welcome, bool live,
                    uint64_t round_trip_ms, spdlog::logger& log, WelcomeOutcome* out);

// Inside `txn`: checks every delivered change before applying any, applies them, keeps them with
// their seals and advances the cursor to `deliver.last`; `*cursor` is the new cursor.
Status ApplyDeliver(Node& node, storage::WriteTxn& txn, const protocol::Deliver& deliver,
                    spdlog::logger& log, uint64_t* cursor);

}  // namespace osrc::node

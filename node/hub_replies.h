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
// `sent_through`: the last change pushed before the Welcome came; the hub may hold it with the
// stamps it left with, so re-stamping starts after it.
Status ApplyWelcome(Node& node, storage::WriteTxn& txn, const protocol::Welcome& welcome, bool live,
                    uint64_t round_trip_ms, uint64_t sent_through, spdlog::logger& log,
                    WelcomeOutcome* out);

// Whether this site may push before the hub's Welcome: it was welcomed before, and no change it
// has to push is stamped beyond half the hub's allowed skew of the hub clock that Welcome taught
// it. Pushing early is safe even when this is wrong (the Welcome re-stamps nothing pushed before
// it; the hub refuses pushes stamped beyond its horizon, and the next Welcome re-stamps them), but
// the refusal would cost a one-shot `sync` its run. Reads the pending changes' stamps.
bool ClockTrusted(Node& node, const storage::Txn& txn);

// Inside `txn`: checks every delivered change before applying any, applies them, keeps them with
// their seals and advances the cursor to `deliver.last`; `*cursor` is the new cursor.
Status ApplyDeliver(Node& node, storage::WriteTxn& txn, const protocol::Deliver& deliver,
                    spdlog::logger& log, uint64_t* cursor);

}  // namespace osrc::node

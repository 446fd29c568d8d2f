// The hub's decode-and-validate entry for one frame from a site: decodes the message with limits
// and, for a push, decodes and checks every change (origin, sequence, schema, clock horizon).
// Pure: no sockets, no store. The fuzz target drives it directly. Thread-compatible.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "config/schema.h"
#include "protocol/change.h"
#include "protocol/messages.h"
#include "protocol/seal.h"

namespace osrc::hub {

struct InboundLimits {
  protocol::MessageLimits message;  // its `change` limits apply to every change
  uint64_t now_ms = 0;              // hub clock
  uint64_t max_skew_ms = 0;         // stamps beyond now + max_skew are refused
};

struct Inbound {
  protocol::Message message;
  std::vector<protocol::Change> changes;  // a push's changes, decoded and checked
};

// `site`: the site the ZAP handler mapped the sender's key to. `history`: what the connection
// carried before this frame (protocol/run_history.h); none for a bundle.
Status DecodeInbound(std::span<const uint8_t> frame, const std::string& site,
                     const config::Schema& schema, const InboundLimits& limits, Inbound* out,
                     protocol::RunHistory* history = nullptr);

// Checks hub changes a site hands back: each must carry this hub's seal over its exact bytes,
// decode, and come from `hub_id` within the clock horizon. All or none: `out` holds them decoded.
Status CheckReoffer(const protocol::Reoffer& reoffer, const protocol::Sealer& sealer,
                    const std::string& hub_id, const InboundLimits& limits,
                    std::vector<protocol::Change>* out);

}  // namespace osrc::hub

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

namespace osrc::hub {

struct InboundLimits {
  protocol::MessageLimits message;
  protocol::DecodeLimits change;
  uint64_t now_ms = 0;       // hub clock
  uint64_t max_skew_ms = 0;  // stamps beyond now + max_skew are refused
};

struct Inbound {
  protocol::Message message;
  std::vector<protocol::Change> changes;  // a push's changes, decoded and checked
};

// `site`: the site the ZAP handler mapped the sender's key to.
Status DecodeInbound(std::span<const uint8_t> frame, const std::string& site,
                     const config::Schema& schema, const InboundLimits& limits, Inbound* out);

}  // namespace osrc::hub

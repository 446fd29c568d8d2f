// Options of a sync link, shared by node and hub: framing limits, batching, heartbeats.
#pragma once

#include <cstddef>
#include <cstdint>

namespace osrc::protocol {

// 2: change runs compressed against their connection's history (protocol/run_history.h).
// 3: change runs in compact form (protocol/compact_run.h). A hub also serves sites of every
// version from kOldestProtocolVersion, with the runs each reads.
inline constexpr uint32_t kProtocolVersion = 3;
inline constexpr uint32_t kOldestProtocolVersion = 1;

struct LinkOptions {
  size_t batch_bytes = 256 * 1024;      // Default: 256 KiB of raw changes per push
  size_t min_batch_bytes = 4 * 1024;    // Default: 4 KiB, the floor on slow links
  int window = 4;                       // Default: 4 pushes in flight
  int heartbeat_ms = 2000;              // Default: 2 s between ZMTP heartbeats
  int heartbeat_timeout_ms = 6000;      // Default: 6 s without traffic ends the link
  int reconnect_min_ms = 250;           // Default: first retry after 0.25 s
  int reconnect_max_ms = 60000;         // Default: backoff capped at 60 s
  int request_timeout_ms = 30000;       // Default: a push unanswered for 30 s resets the link
  size_t max_message_bytes = 16 << 20;  // Default: 16 MiB per frame
  size_t deliver_page = 2000;           // Default: 2,000 hub log entries per deliver
};

}  // namespace osrc::protocol

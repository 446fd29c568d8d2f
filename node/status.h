// The node's status report: what `osrc-node status` prints, as text or JSON.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "node/node.h"

namespace osrc::node {

struct NodeStatus {
  std::string site;
  std::string hub_endpoint;
  std::vector<std::pair<std::string, size_t>> records;  // per collection
  uint64_t log_head = 0;
  uint64_t acked = 0;
  uint64_t cursor = 0;  // hub log position applied: the reference data version
  uint64_t last_contact_ms = 0;
  int64_t clock_offset_ms = 0;
  std::string epoch;
  std::string link_state;
  std::string last_error;
  uint64_t last_error_ms = 0;
  size_t conflicts = 0;
  size_t owed_to_hub = 0;      // hub changes to hand back to a restored hub
  uint64_t erased_by_hub = 0;  // erasure orders from the hub applied here
  std::string last_erased;     // collection/id of the last of them
  size_t store_used_bytes = 0;
  size_t store_map_bytes = 0;

  uint64_t pending() const { return log_head > acked ? log_head - acked : 0; }
};

NodeStatus ReadStatus(Node& node);
std::string StatusText(const NodeStatus& status);
std::string StatusJson(const NodeStatus& status);

}  // namespace osrc::node

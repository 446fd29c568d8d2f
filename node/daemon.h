// Process-level running of the node's sync: `osrc-node sync` (one session until in step) and
// `osrc-node run` (sessions forever, reconnecting with exponential backoff and jitter), with
// loggers and SIGINT/SIGTERM handling.
#pragma once

#include "node/node.h"

namespace osrc::node {

Status SyncOnce(Node& node, int timeout_seconds);
Status RunDaemon(Node& node);

}  // namespace osrc::node

// Process-level running of the node's sync: `osrc-node sync` (one session until in step) and
// `osrc-node run` (sessions forever, reconnecting with exponential backoff and jitter), with
// loggers and SIGINT/SIGTERM handling.
#pragma once

#include <chrono>

#include "node/node.h"

namespace osrc::node {

// One session until in step; `*took` is the session alone, from starting to connect until in step.
Status SyncOnce(Node& node, int timeout_seconds, std::chrono::milliseconds* took);
// Runs until SIGINT/SIGTERM, or until an erasure waits to be cleared from the store's freed
// pages and no other process has the store open: then `*compaction_due` is set and the caller
// compacts, reopens and runs again.
Status RunDaemon(Node& node, bool* compaction_due);

}  // namespace osrc::node

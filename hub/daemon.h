// Process-level set-up of the hub daemon: loggers (stderr and a rotating file in the data
// folder) and SIGINT/SIGTERM handling around Server::Run; a fault that reaches it ends the daemon
// with one line, never an abort.
#pragma once

#include "hub/hub.h"

namespace osrc::hub {

// `console_bind`: HOST:PORT of the web console beside the sync server, or "off". Runs until
// SIGINT/SIGTERM, or until an erasure waits to be cleared from the store's freed pages and no
// other process has the store open: then `*compaction_due` is set and the caller compacts,
// reopens and runs again (sites reconnect; console logins end).
Status RunDaemon(Hub& hub, const std::string& console_bind, bool* compaction_due);

}  // namespace osrc::hub

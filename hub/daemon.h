// Process-level set-up of the hub daemon: loggers (stderr and a rotating file in the data
// folder) and SIGINT/SIGTERM handling around Server::Run; a fault that reaches it ends the daemon
// with one line, never an abort.
#pragma once

#include "hub/hub.h"

namespace osrc::hub {

// `console_bind`: HOST:PORT of the web console beside the sync server, or "off".
Status RunDaemon(Hub& hub, const std::string& console_bind);

}  // namespace osrc::hub

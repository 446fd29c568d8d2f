// Process-level set-up of the hub daemon: loggers (stderr and a rotating file in the data
// folder) and SIGINT/SIGTERM handling around Server::Run; a fault that reaches it ends the daemon
// with one line, never an abort.
#pragma once

#include "hub/hub.h"

namespace osrc::hub {

Status RunDaemon(Hub& hub);

}  // namespace osrc::hub

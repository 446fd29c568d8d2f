// Process-level set-up of the hub daemon: loggers (stderr and a rotating file in the data
// folder) and SIGINT/SIGTERM handling around Server::Run.
#pragma once

#include "hub/hub.h"

namespace osrc::hub {

Status RunDaemon(Hub& hub);

}  // namespace osrc::hub

#include "hub/daemon.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>

#include "base/logging.h"
#include "hub/metrics.h"
#include "hub/server.h"

namespace osrc::hub {
namespace {

std::atomic<bool> stop_requested{false};

void OnSignal(int) { stop_requested.store(true); }

}  // namespace

Status RunDaemon(Hub& hub) {
  std::shared_ptr<spdlog::logger> logger;
  OSRC_RETURN_IF_ERROR(MakeDaemonLogger("hub", hub.dir() + "/hub.log", &logger));
  spdlog::logger& log = *logger;
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
  Status status;
  try {
    LiveMetrics metrics;  // for the console's /metrics, when it serves them
    Server server(hub, log, &metrics);
    status = server.Run(stop_requested);
  } catch (const std::exception& e) {
    // The loop and its handlers catch their own faults; this is what they could not confine.
    log.error("hub daemon failed: {}", e.what());
    return {ErrorCode::kInternal, std::string("hub daemon failed: ") + e.what()};
  }
  if (status.ok()) log.info("stopped");
  return status;
}

}  // namespace osrc::hub

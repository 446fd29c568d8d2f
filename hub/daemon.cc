#include "hub/daemon.h"

#include <signal.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>

#include "hub/server.h"

namespace osrc::hub {
namespace {

std::atomic<bool> stop_requested{false};

void OnSignal(int) { stop_requested.store(true); }

}  // namespace

Status RunDaemon(Hub& hub) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto file =
      std::make_shared<spdlog::sinks::rotating_file_sink_mt>(hub.dir() + "/hub.log", 10 << 20, 5);
  spdlog::logger log("hub", {console, file});
  log.set_level(spdlog::level::info);
  if (const char* level = std::getenv("OSRC_LOG_LEVEL")) {
    log.set_level(spdlog::level::from_str(level));
  }
  log.flush_on(spdlog::level::info);
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
  Status status;
  try {
    Server server(hub, log);
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

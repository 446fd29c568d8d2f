#include "hub/daemon.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <shared_mutex>
#include <thread>

#include "base/logging.h"
#include "hub/console_server.h"
#include "hub/metrics.h"
#include "hub/server.h"
#include "storage/compact.h"

namespace osrc::hub {
namespace {

std::atomic<bool> stop_requested{false};

// How often the running daemon asks whether an erasure waits for compaction.
constexpr auto kCompactionCheck = std::chrono::seconds(5);

void OnSignal(int) { stop_requested.store(true); }

// Descriptors the hub holds besides its sites' connections: store, logs, ZeroMQ's own.
constexpr rlim_t kReservedDescriptors = 64;

// Each connected site holds one descriptor: raise the soft limit to the hard one and say how
// many sites fit.
void RaiseFileLimit(spdlog::logger& log) {
  struct rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  rlim_t before = limit.rlim_cur;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = before;
  }
  rlim_t sites = limit.rlim_cur > kReservedDescriptors ? limit.rlim_cur - kReservedDescriptors : 0;
  std::string raised =
      limit.rlim_cur > before ? " (raised from " + std::to_string(before) + ")" : "";
  log.info("open files limit {}{}: room for about {} connected sites", limit.rlim_cur, raised,
           sites);
  if (sites < 100) {
    log.warn("the open files limit leaves room for only {} sites: raise LimitNOFILE", sites);
  }
}

}  // namespace

Status RunDaemon(Hub& hub, const std::string& console_bind, bool* compaction_due) {
  *compaction_due = false;
  std::shared_ptr<spdlog::logger> logger;
  OSRC_RETURN_IF_ERROR(MakeDaemonLogger("hub", hub.dir() + "/hub.log", &logger));
  spdlog::logger& log = *logger;
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
  RaiseFileLimit(log);
  Status status;
  try {
    LiveMetrics metrics;  // for the console's /metrics and its chart
    ConsoleServer console(hub, &metrics, log);
    if (console_bind != "off") {
      // The sites come first: a console that cannot start leaves the sync server running.
      Status started = console.Start(console_bind);
      if (!started.ok()) log.error("console not started: {}", started.ToString());
    } else {
      log.info("console off");
    }
    Server server(hub, log, &metrics);
    // Stops the server on a signal, or to compact when an erasure waits and the hub is alone.
    std::atomic<bool> stop{false};
    std::thread watch([&] {
      auto next_check = std::chrono::steady_clock::now() + kCompactionCheck;
      while (!stop.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (stop_requested.load()) break;
        if (std::chrono::steady_clock::now() < next_check) continue;
        next_check = std::chrono::steady_clock::now() + kCompactionCheck;
        try {
          std::shared_lock guard(hub.store_guard());
          if (storage::CompactionDue(hub.dir(), hub.store())) {
            *compaction_due = true;
            break;
          }
        } catch (const std::exception& e) {
          log.error("cannot check for a pending compaction: {}", e.what());
        }
      }
      stop.store(true);
    });
    // Joined however the server ends, a fault included: a joinable thread must not be destroyed.
    struct StopAndJoin {
      std::atomic<bool>& stop;
      std::thread& thread;
      ~StopAndJoin() {
        stop.store(true);
        thread.join();
      }
    } joined{stop, watch};
    status = server.Run(stop);
    console.Stop();
  } catch (const std::exception& e) {
    // The loop and its handlers catch their own faults; this is what they could not confine.
    log.error("hub daemon failed: {}", e.what());
    return {ErrorCode::kInternal, std::string("hub daemon failed: ") + e.what()};
  }
  if (status.ok()) {
    log.info(*compaction_due ? "pausing to clear erased values from the store's freed pages"
                             : "stopped");
  }
  return status;
}

}  // namespace osrc::hub

#include "node/daemon.h"

#include <signal.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <random>
#include <thread>

#include "node/link_state.h"
#include "node/sync_session.h"

namespace osrc::node {
namespace {

std::atomic<bool> stop_requested{false};

void OnSignal(int) { stop_requested.store(true); }

void InstallSignals() {
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

std::shared_ptr<spdlog::logger> MakeLogger(Node& node, const std::string& name) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(node.dir() + "/node.log",
                                                                      10 << 20, 5);
  auto log = std::make_shared<spdlog::logger>(name, spdlog::sinks_init_list{console, file});
  log->set_level(spdlog::level::info);
  if (const char* level = std::getenv("OSRC_LOG_LEVEL")) {
    log->set_level(spdlog::level::from_str(level));
  }
  log->flush_on(spdlog::level::info);
  return log;
}

}  // namespace

Status SyncOnce(Node& node, int timeout_seconds) {
  InstallSignals();
  auto log = MakeLogger(node, "node.sync");
  log->set_level(spdlog::level::warn);
  zmq::context_t context(1);
  uint64_t deadline = node.clock().NowMillis() + static_cast<uint64_t>(timeout_seconds) * 1000;
  bool timed_out = false;
  LinkTuning tuning(node.config().link);
  SyncSession session(node, context, *log, tuning);
  Status status = session.Run(
      [&] {
        timed_out = node.clock().NowMillis() >= deadline;
        return stop_requested.load() || timed_out;
      },
      /*until_in_step=*/true);
  if (!status.ok()) return status;
  if (!session.reached_in_step()) {
    return {ErrorCode::kTimeout,
            timed_out ? "not in step after " + std::to_string(timeout_seconds) + " s"
                      : "interrupted before in step",
            node.config().hub_endpoint};
  }
  return {};
}

Status RunDaemon(Node& node) {
  InstallSignals();
  auto log = MakeLogger(node, "node");
  zmq::context_t context(1);
  const protocol::LinkOptions& link = node.config().link;
  std::mt19937_64 random(std::random_device{}());
  int backoff_ms = link.reconnect_min_ms;
  log->info("site {} syncing with {}", node.config().site, node.config().hub_endpoint);
  LinkTuning tuning(node.config().link);
  while (!stop_requested.load()) {
    SyncSession session(node, context, *log, tuning);
    Status status = session.Run([] { return stop_requested.load(); }, /*until_in_step=*/false);
    if (stop_requested.load()) break;
    if (session.reached_in_step()) backoff_ms = link.reconnect_min_ms;
    if (status.ok()) continue;
    // Exponential backoff with full jitter in [backoff/2, backoff].
    int wait_ms = backoff_ms / 2 + static_cast<int>(random() % (backoff_ms / 2 + 1));
    log->warn("link down: {}; retrying in {} ms", status.ToString(), wait_ms);
    {
      storage::WriteTxn txn(node.store().env());
      WriteLinkState(node.store(), txn, "backoff " + std::to_string(wait_ms) + " ms");
      txn.Commit();
    }
    uint64_t until = node.clock().NowMillis() + static_cast<uint64_t>(wait_ms);
    while (!stop_requested.load() && node.clock().NowMillis() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // backoff wait
    }
    backoff_ms = std::min(link.reconnect_max_ms, backoff_ms * 2);
  }
  log->info("stopped");
  return {};
}

}  // namespace osrc::node

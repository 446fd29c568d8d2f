#include "node/daemon.h"

#include <signal.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <random>

#include "base/progress.h"
#include "node/link_driver.h"
#include "node/link_store.h"

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
  auto file =
      std::make_shared<spdlog::sinks::rotating_file_sink_mt>(node.dir() + "/node.log", 10 << 20, 5);
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
  NodeLinkStore store(node, *log);
  LinkSession session(node.config().link, IdentityOf(node), store, /*reconnect=*/false,
                      std::random_device{}());
  // Progress: changes the hub acknowledged, of those it lacked when the sync began.
  uint64_t start_acked = 0;
  uint64_t head = 0;
  {
    storage::ReadTxn txn(node.store().env());
    start_acked = node.store().GetMetaU64(txn, storage::kMetaAcked);
    head = node.store().LogHead(txn);
  }
  std::unique_ptr<Progress> progress =
      StderrProgress("sync", "changes acknowledged", head > start_acked ? head - start_acked : 0);
  DriveLink(node, context, *log, session, [&] {
    progress->Update(session.acked() > start_acked ? session.acked() - start_acked : 0);
    timed_out = node.clock().NowMillis() >= deadline;
    return stop_requested.load() || timed_out || session.reached_in_step();
  });
  progress->Finish();
  if (session.reached_in_step()) return {};
  if (!session.failure().ok()) return session.failure();
  return {ErrorCode::kTimeout,
          timed_out ? "not in step after " + std::to_string(timeout_seconds) + " s"
                    : "interrupted before in step",
          node.config().hub_endpoint};
}

Status RunDaemon(Node& node) {
  InstallSignals();
  auto log = MakeLogger(node, "node");
  zmq::context_t context(1);
  log->info("site {} syncing with {}", node.config().site, node.config().hub_endpoint);
  NodeLinkStore store(node, *log);
  LinkSession session(node.config().link, IdentityOf(node), store, /*reconnect=*/true,
                      std::random_device{}());
  DriveLink(node, context, *log, session, [] { return stop_requested.load(); });
  log->info("stopped");
  return {};
}

}  // namespace osrc::node

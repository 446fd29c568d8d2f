#include "node/daemon.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <random>

#include "base/logging.h"
#include "base/progress.h"
#include "node/link_driver.h"
#include "node/link_store.h"
#include "storage/compact.h"

namespace osrc::node {
namespace {

std::atomic<bool> stop_requested{false};

// How often a running daemon asks whether an erasure waits for compaction.
constexpr auto kCompactionCheck = std::chrono::seconds(5);

void OnSignal(int) { stop_requested.store(true); }

void InstallSignals() {
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

}  // namespace

Status SyncOnce(Node& node, int timeout_seconds, std::chrono::milliseconds* took) {
  InstallSignals();
  std::shared_ptr<spdlog::logger> log;
  // A one-shot sync reports on the terminal: warnings only, unless $OSRC_LOG_LEVEL asks for more.
  OSRC_RETURN_IF_ERROR(
      MakeDaemonLogger("node.sync", node.dir() + "/node.log", &log, spdlog::level::warn));
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
  const auto started = std::chrono::steady_clock::now();
  DriveLink(node, context, *log, session, [&] {
    progress->Update(session.acked() > start_acked ? session.acked() - start_acked : 0);
    timed_out = node.clock().NowMillis() >= deadline;
    if (!session.reached_in_step()) return stop_requested.load() || timed_out;
    *took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started);
    return true;
  });
  progress->Finish();
  if (session.reached_in_step()) return {};
  if (!session.failure().ok()) return session.failure();
  return {ErrorCode::kTimeout,
          timed_out ? "not in step after " + std::to_string(timeout_seconds) + " s"
                    : "interrupted before in step",
          node.config().hub_endpoint};
}

Status RunDaemon(Node& node, bool* compaction_due) {
  InstallSignals();
  *compaction_due = false;
  std::shared_ptr<spdlog::logger> log;
  OSRC_RETURN_IF_ERROR(MakeDaemonLogger("node", node.dir() + "/node.log", &log));
  zmq::context_t context(1);
  log->info("site {} syncing with {}", node.config().site, node.config().hub_endpoint);
  NodeLinkStore store(node, *log);
  LinkSession session(node.config().link, IdentityOf(node), store, /*reconnect=*/true,
                      std::random_device{}());
  auto next_check = std::chrono::steady_clock::now() + kCompactionCheck;
  DriveLink(node, context, *log, session, [&] {
    if (stop_requested.load()) return true;
    if (std::chrono::steady_clock::now() < next_check) return false;
    next_check = std::chrono::steady_clock::now() + kCompactionCheck;
    *compaction_due = storage::CompactionDue(node.dir(), node.store());
    return *compaction_due;
  });
  log->info(*compaction_due ? "pausing to clear erased values from the store's freed pages"
                            : "stopped");
  return {};
}

}  // namespace osrc::node

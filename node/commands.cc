#include "node/commands.h"

#include <iostream>

#include "base/text.h"
#include "node/bundle.h"
#include "node/config_commands.h"
#include "node/daemon.h"
#include "node/status.h"
#include "replica/conflicts.h"
#include "replica/erase.h"
#include "replica/record_cli.h"
#include "replica/run_lock.h"

namespace osrc::node {

Status CommandInit(const InitOptions& options) {
  std::string public_key;
  OSRC_RETURN_IF_ERROR(InitNode(options, &public_key));
  std::cout << "initialised site " << options.site << " in " << options.dir << "\n"
            << "enrol this site at the hub with:\n"
            << "  " << EnrolCommand(options.site, public_key) << "\n"
            << public_key << "\n";
  return {};
}

Status CommandPut(const std::string& dir, const std::string& collection, const std::string& id,
                  const std::string& json) {
  std::unique_ptr<Node> node;
  OSRC_RETURN_IF_ERROR(Node::Open(dir, &node));
  replica::Writer writer = node->writer();
  bool changed = false;
  OSRC_RETURN_IF_ERROR(storage::WithGrowth(node->store().env(), [&] {
    return replica::PutJson(writer, collection, id, json, &changed);
  }));
  std::cout << (changed ? "stored " : "unchanged ") << protocol::RecordName(collection, id) << "\n";
  return {};
}

Status CommandDelete(const std::string& dir, const std::string& collection, const std::string& id,
                     bool cascade) {
  std::unique_ptr<Node> node;
  OSRC_RETURN_IF_ERROR(Node::Open(dir, &node));
  replica::Writer writer = node->writer();
  replica::DeleteResult result;
  OSRC_RETURN_IF_ERROR(storage::WithGrowth(node->store().env(), [&] {
    result = {};
    return replica::DeleteRecord(writer, collection, id, cascade, &result);
  }));
  std::cout << replica::DeleteSummary(collection, id, result) << "\n";
  return {};
}

Status CommandErase(const std::string& dir, const std::string& collection, const std::string& id,
                    const std::string& reason) {
  if (reason.empty()) return {ErrorCode::kBadInput, "give the reason of the erasure", "--reason"};
  std::unique_ptr<Node> node;
  OSRC_RETURN_IF_ERROR(Node::Open(dir, &node));
  replica::Writer writer = node->writer();
  replica::EraseResult result;
  OSRC_RETURN_IF_ERROR(replica::EraseRecord(writer, collection, id, &result));
  std::cout << replica::EraseSummary(result) << "; the hub erases them at the next sync\n";
  std::string compacted = replica::CompactAfterErasure(dir, node->store());
  if (!compacted.empty()) std::cout << compacted << "\n";
  return {};
}

Status CommandGet(const std::string& dir, const std::string& collection, const std::string& id) {
  std::unique_ptr<Node> node;
  OSRC_RETURN_IF_ERROR(Node::Open(dir, &node));
  return replica::PrintRecord(node->store(), collection, id);
}

Status CommandImport(const std::string& dir, const replica::ImportArgs& args) {
  std::unique_ptr<Node> node;
  OSRC_RETURN_IF_ERROR(Node::Open(dir, &node));
  replica::Writer writer = node->writer();
  replica::ImportStats stats;
  OSRC_RETURN_IF_ERROR(replica::ImportWithReport(writer, args, "osrc-node", &stats));
  std::cout << "imported " << stats.lines << " records, " << stats.changed
            << " changed; change log head " << stats.head << "\n";
  return {};
}

Status CommandExport(const std::string& dir, const std::string& collection, bool include_personal,
                     const std::string& format) {
  std::unique_ptr<Node> node;
  OSRC_RETURN_IF_ERROR(Node::Open(dir, &node));
  return replica::ExportRecords(node->store(), node->schema(), collection, "", format,
                                include_personal);
}

Status CommandStatus(const std::string& dir, bool as_json) {
  std::unique_ptr<Node> node;
  OSRC_RETURN_IF_ERROR(Node::Open(dir, &node));
  NodeStatus status = ReadStatus(*node);
  std::cout << (as_json ? StatusJson(status) : StatusText(status));
  return {};
}

Status CommandConflicts(const std::string& dir, bool as_json) {
  std::unique_ptr<Node> node;
  OSRC_RETURN_IF_ERROR(Node::Open(dir, &node));
  replica::ConflictFilter filter;
  filter.site = node->config().site;
  storage::ReadTxn txn(node->store().env());
  replica::ForEachMatchingConflict(
      node->store(), txn, filter, [&](const storage::StoredConflict& c) {
        std::cout << replica::ConflictLine(node->schema(), c,
                                           /*show_personal=*/true, as_json);
      });
  return {};
}

namespace {

// sync and run need a hub; `osrc-node init` refuses an initialised folder, so node.toml is
// where one is set afterwards.
Status CheckHubSet(const Node& node) {
  const config::NodeConfig& config = node.config();
  if (!config.hub_endpoint.empty() && !config.hub_public_key.empty()) return {};
  std::string missing = config.hub_endpoint.empty() && config.hub_public_key.empty() ? "no hub set"
                        : config.hub_endpoint.empty() ? "no hub endpoint set"
                                                      : "no hub public key set";
  return {ErrorCode::kBadInput,
          missing + ": set it with osrc-node config set-hub --data " + ShellQuoted(node.dir()) +
              " --hub tcp://HOST:7400 --hub-key 'KEY' (the key osrc-hub init printed)",
          node.dir() + "/" + std::string(config::kNodeConfigFile)};
}

}  // namespace

Status CommandSync(const std::string& dir, const SyncOptions& options) {
  if (options.timeout_seconds <= 0) {
    return {ErrorCode::kBadInput, "must be a positive number of seconds", "--timeout"};
  }
  std::unique_ptr<Node> node;
  OSRC_RETURN_IF_ERROR(Node::Open(dir, &node));
  OSRC_RETURN_IF_ERROR(CheckHubSet(*node));
  replica::RunLock lock;
  OSRC_RETURN_IF_ERROR(lock.Acquire(dir));
  std::chrono::milliseconds took{};
  OSRC_RETURN_IF_ERROR(SyncOnce(*node, options.timeout_seconds, &took));
  NodeStatus status = ReadStatus(*node);
  std::cout << fmt::format("in step after {:.3f} s: acknowledged {}, reference version {}\n",
                           took.count() / 1000.0, status.acked, status.cursor);
  std::string compacted = replica::CompactAfterErasure(dir, node->store());
  if (!compacted.empty()) std::cout << compacted << "\n";
  return {};
}

Status CommandRun(const std::string& dir) {
  std::unique_ptr<Node> node;
  OSRC_RETURN_IF_ERROR(Node::Open(dir, &node));
  OSRC_RETURN_IF_ERROR(CheckHubSet(*node));
  replica::RunLock lock;
  OSRC_RETURN_IF_ERROR(lock.Acquire(dir));
  // Values an erasure left in freed pages go before linking, while running (the daemon pauses
  // when it is alone with the store) and after.
  while (true) {
    if (!replica::CompactAfterErasure(dir, node->store()).empty()) {
      node.reset();
      OSRC_RETURN_IF_ERROR(Node::Open(dir, &node));
    }
    bool compaction_due = false;
    Status status = RunDaemon(*node, &compaction_due);
    if (!compaction_due || !status.ok()) {
      replica::CompactAfterErasure(dir, node->store());
      return status;
    }
  }
}

}  // namespace osrc::node

namespace osrc::node {

Status CommandBundleExport(const std::string& dir, const BundleOptions& options) {
  std::unique_ptr<Node> node;
  OSRC_RETURN_IF_ERROR(Node::Open(dir, &node));
  BundleExportResult result;
  std::unique_ptr<Progress> progress = StderrProgress("bundle export", "changes");
  OSRC_RETURN_IF_ERROR(ExportBundle(*node, options.file, &result, progress.get()));
  progress->Finish();
  std::cout << "bundle " << result.seq << " written to " << options.file << ": ";
  if (result.last < result.first) {
    std::cout << "no pending changes (it fetches reference data and corrections)\n";
  } else {
    std::cout << "changes " << result.first << ".." << result.last << " sealed to the hub\n";
  }
  if (result.handed_back > 0) {
    std::cout << "it also hands back " << result.handed_back
              << " hub changes received before the hub's restore\n";
  }
  return {};
}

Status CommandBundleImport(const std::string& dir, const BundleOptions& options) {
  std::unique_ptr<Node> node;
  OSRC_RETURN_IF_ERROR(Node::Open(dir, &node));
  ReplyImportResult result;
  std::unique_ptr<Progress> progress = StderrProgress("bundle import", "deliveries");
  OSRC_RETURN_IF_ERROR(ImportReply(*node, options.file, &result, progress.get()));
  progress->Finish();
  std::cout << "reply imported: acknowledged " << result.acked << ", " << result.delivered
            << " deliveries applied, reference version " << result.cursor << "\n";
  std::string compacted = replica::CompactAfterErasure(dir, node->store());
  if (!compacted.empty()) std::cout << compacted << "\n";
  return {};
}

}  // namespace osrc::node

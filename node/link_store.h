// NodeLinkStore: a site's LMDB store as its LinkSession sees it (node/link_session.h). Either each
// call commits a transaction of its own (the network link), or every call works inside one
// transaction the caller commits (bundles: all or nothing). On the link, the hub's
// acknowledgement is written with the next write, or at least once a second: a durable commit
// per acknowledgement would hold up the pushes, and one lost in a crash only resends changes
// the hub answers as repeats. Thread-compatible.
#pragma once

#include <spdlog/spdlog.h>

#include "base/progress.h"
#include "node/link_session.h"
#include "node/node.h"

namespace osrc::node {

// The site as its LinkSession names it: site code, schema and the hub endpoint of node.toml.
LinkIdentity IdentityOf(const Node& node);

class NodeLinkStore final : public LinkStore {
 public:
  // `txn`: the transaction every call works in, or null for one per call. Both outlive this.
  NodeLinkStore(Node& node, spdlog::logger& log, storage::WriteTxn* txn = nullptr)
      : node_(node), log_(log), txn_(txn) {}

  Position Read() override;
  uint64_t LogHead() override;
  std::vector<std::string> ReadLog(uint64_t first, uint64_t last, size_t max_bytes) override;
  Status ApplyWelcome(const protocol::Welcome& welcome, bool live, uint64_t round_trip_ms,
                      uint64_t sent_through, Welcomed* out) override;
  Status ApplyDeliver(const protocol::Deliver& deliver, uint64_t* cursor) override;
  void SaveAcked(uint64_t acked) override;
  std::optional<protocol::Reoffer> NextReoffer(size_t max_bytes) override;
  void DropReoffered(uint64_t token) override;
  void Report(const std::string& state, const std::string& failure, uint64_t now_ms) override;

  // Counts each change ReadLog reads as done, less `base` (the sequence before the first one).
  // `progress` outlives this store, or is null.
  void set_progress(Progress* progress, uint64_t base) {
    progress_ = progress;
    progress_base_ = base;
  }

 private:
  // Runs `write` in the shared transaction, or in one of its own that commits if it succeeds.
  Status Write(const std::function<Status(storage::WriteTxn&)>& write);
  template <typename T>
  T ReadWith(const std::function<T(const storage::Txn&)>& read);

  Node& node_;
  spdlog::logger& log_;
  storage::WriteTxn* txn_;
  uint64_t unsaved_acked_ = 0;  // an acknowledgement not yet written; 0: none
  uint64_t acked_saved_ms_ = 0;
  Progress* progress_ = nullptr;
  uint64_t progress_base_ = 0;
};

}  // namespace osrc::node

#include "node/link_store.h"

#include "node/hub_replies.h"
#include "node/link_state.h"
#include "node/reoffer.h"

namespace osrc::node {

LinkIdentity IdentityOf(const Node& node) {
  return {node.config().site, node.schema().hash(), node.config().hub_endpoint};
}

template <typename T>
T NodeLinkStore::ReadWith(const std::function<T(const storage::Txn&)>& read) {
  if (txn_ != nullptr) return read(*txn_);
  storage::ReadTxn txn(node_.store().env());
  return read(txn);
}

Status NodeLinkStore::Write(const std::function<Status(storage::WriteTxn&)>& write) {
  if (txn_ != nullptr) return write(*txn_);
  return storage::WithGrowth(node_.store().env(), [&] {
    storage::WriteTxn txn(node_.store().env());
    if (unsaved_acked_ > 0) node_.store().PutMetaU64(txn, storage::kMetaAcked, unsaved_acked_);
    Status status = write(txn);
    if (status.ok()) {
      txn.Commit();
      unsaved_acked_ = 0;
      acked_saved_ms_ = node_.clock().NowMillis();
    }
    return status;
  });
}

LinkStore::Position NodeLinkStore::Read() {
  return ReadWith<Position>([&](const storage::Txn& txn) {
    storage::Store& store = node_.store();
    uint64_t acked =
        unsaved_acked_ > 0 ? unsaved_acked_ : store.GetMetaU64(txn, storage::kMetaAcked);
    Position position{store.LogHead(txn), store.GetMetaU64(txn, storage::kMetaCursor), acked,
                      std::string(store.GetMeta(txn, storage::kMetaEpoch).value_or(""))};
    protocol::Change oldest;
    auto bytes = store.GetLog(txn, position.acked + 1);
    if (bytes && protocol::DecodeChange(*bytes, {}, &oldest).ok()) {
      position.oldest_unsent = oldest.stamp;
    }
    position.clock_trusted = ClockTrusted(node_, txn);
    return position;
  });
}

uint64_t NodeLinkStore::LogHead() {
  return ReadWith<uint64_t>([&](const storage::Txn& txn) { return node_.store().LogHead(txn); });
}

std::vector<std::string> NodeLinkStore::ReadLog(uint64_t first, uint64_t last, size_t max_bytes) {
  return ReadWith<std::vector<std::string>>([&](const storage::Txn& txn) {
    std::vector<std::string> changes;
    size_t bytes = 0;
    uint64_t seq = first;
    auto wants_more = [&] { return seq <= last && bytes < max_bytes; };
    if (wants_more()) {
      node_.store().ForEachLog(txn, first, [&](uint64_t at, std::string_view entry) {
        changes.emplace_back(entry);
        bytes += entry.size();
        if (progress_ != nullptr) progress_->Update(at - progress_base_);
        seq = at + 1;
        return wants_more();
      });
    }
    // The log ended before `last`, with room left.
    if (wants_more())
      throw Error(ErrorCode::kCorruption, "change log lacks " + std::to_string(seq));
    return changes;
  });
}

Status NodeLinkStore::ApplyWelcome(const protocol::Welcome& welcome, bool live,
                                   uint64_t round_trip_ms, uint64_t sent_through, Welcomed* out) {
  return Write([&](storage::WriteTxn& txn) {
    WelcomeOutcome outcome;
    OSRC_RETURN_IF_ERROR(
        node::ApplyWelcome(node_, txn, welcome, live, round_trip_ms, sent_through, log_, &outcome));
    *out = {outcome.head, outcome.acked, outcome.cursor, OwedCount(node_.store(), txn) > 0};
    return Status();
  });
}

Status NodeLinkStore::ApplyDeliver(const protocol::Deliver& deliver, uint64_t* cursor) {
  return Write([&](storage::WriteTxn& txn) {
    return node::ApplyDeliver(node_, txn, deliver, log_, cursor);
  });
}

void NodeLinkStore::SaveAcked(uint64_t acked) {
  constexpr uint64_t kSaveIntervalMs = 1000;
  if (txn_ == nullptr) {
    unsaved_acked_ = acked;
    if (node_.clock().NowMillis() < acked_saved_ms_ + kSaveIntervalMs) return;
  }
  IgnoreError(Write([&](storage::WriteTxn& txn) {
                node_.store().PutMetaU64(txn, storage::kMetaAcked, acked);
                return Status();
              }),
              "cannot fail");
}

std::optional<protocol::Reoffer> NodeLinkStore::NextReoffer(size_t max_bytes) {
  return ReadWith<std::optional<protocol::Reoffer>>(
      [&](const storage::Txn& txn) { return node::NextReoffer(node_.store(), txn, max_bytes); });
}

void NodeLinkStore::DropReoffered(uint64_t token) {
  IgnoreError(Write([&](storage::WriteTxn& txn) {
                node::DropReoffered(node_.store(), txn, token);
                return Status();
              }),
              "cannot fail");
}

void NodeLinkStore::Report(const std::string& state, const std::string& failure, uint64_t now_ms) {
  IgnoreError(Write([&](storage::WriteTxn& txn) {
                WriteLinkState(node_.store(), txn, state, failure, now_ms);
                return Status();
              }),
              "cannot fail");
}

}  // namespace osrc::node

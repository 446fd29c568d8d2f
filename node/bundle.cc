#include "node/bundle.h"

#include <spdlog/sinks/null_sink.h>

#include "node/link_session.h"
#include "node/link_store.h"
#include "protocol/bundle.h"
#include "protocol/link_options.h"
#include "storage/hlc.h"

namespace osrc::node {
namespace {

Status CheckHubKey(const Node& node) {
  if (node.config().hub_public_key.empty()) {
    return {ErrorCode::kBadInput, "no hub public key in node.toml", node.dir() + "/node.toml"};
  }
  return {};
}

std::shared_ptr<spdlog::logger> NullLog() {
  return std::make_shared<spdlog::logger>("node.bundle",
                                          std::make_shared<spdlog::sinks::null_sink_mt>());
}

}  // namespace

Status ExportBundle(Node& node, const std::string& file, BundleExportResult* result,
                    Progress* progress) {
  OSRC_RETURN_IF_ERROR(CheckHubKey(node));
  storage::Store& store = node.store();
  protocol::BundleContent content;
  content.site = node.config().site;
  content.created_ms = node.clock().NowMillis();
  auto null_log = NullLog();
  {
    storage::WriteTxn txn(store.env());
    content.seq = store.GetMetaU64(txn, kMetaBundleSeq) + 1;
    store.PutMetaU64(txn, kMetaBundleSeq, content.seq);
    NodeLinkStore link_store(node, *null_log, &txn);
    if (progress != nullptr) {
      uint64_t acked = store.GetMetaU64(txn, storage::kMetaAcked);
      uint64_t head = store.LogHead(txn);
      progress->SetTotal(head > acked ? head - acked : 0);
      link_store.set_progress(progress, acked);
    }
    LinkSession session(node.config().link, IdentityOf(node), link_store, false, 0);
    // The hub's own changes owed to it since its restore go in one message.
    for (const protocol::Message& message :
         session.BundleMessages(content.created_ms, protocol::kMaxBundleBytes / 2)) {
      if (auto* hello = std::get_if<protocol::Hello>(&message)) {
        result->first = store.GetMetaU64(txn, storage::kMetaAcked) + 1;
        result->last = hello->log_head;
      }
      if (auto* reoffer = std::get_if<protocol::Reoffer>(&message)) {
        result->handed_back = reoffer->changes.size();
      }
      content.messages.push_back(protocol::EncodeMessage(message));
    }
    txn.Commit();
  }
  result->seq = content.seq;
  return protocol::WriteBundleFile(
      file, protocol::SealBundle(content, node.keys(), node.config().hub_public_key));
}

Status ImportReply(Node& node, const std::string& file, ReplyImportResult* result,
                   Progress* progress) {
  OSRC_RETURN_IF_ERROR(CheckHubKey(node));
  std::string sealed;
  OSRC_RETURN_IF_ERROR(protocol::ReadBundleFile(file, &sealed));
  protocol::BundleContent content;
  OSRC_RETURN_IF_ERROR(
      protocol::OpenBundle(sealed, node.keys(), node.config().hub_public_key, &content)
          .WithContext(file));
  if (!content.reply) return {ErrorCode::kBadBundle, "a site bundle, not a hub reply", file};
  if (content.site != node.config().site) {
    return {ErrorCode::kBadBundle, "reply for site " + content.site + ", not this site", file};
  }
  protocol::MessageLimits limits;
  limits.max_frame_bytes = protocol::kMaxBundleBytes;
  std::vector<protocol::Message> messages(content.messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& frame = content.messages[i];
    OSRC_RETURN_IF_ERROR(
        protocol::DecodeMessage({reinterpret_cast<const uint8_t*>(frame.data()), frame.size()},
                                limits, &messages[i])
            .WithContext(file));
  }
  auto null_log = NullLog();
  storage::Store& store = node.store();
  storage::WriteTxn txn(store.env());
  uint64_t exported = store.GetMetaU64(txn, kMetaBundleSeq);
  uint64_t imported = store.GetMetaU64(txn, kMetaReplySeq);
  if (content.seq > exported) {
    return {ErrorCode::kBadBundle,
            "reply to bundle " + std::to_string(content.seq) + ", which this site never exported",
            file};
  }
  if (content.seq < imported) {
    return {ErrorCode::kBadBundle,
            "reply to bundle " + std::to_string(content.seq) +
                " is older than the reply already imported (" + std::to_string(imported) + ")",
            file};
  }
  NodeLinkStore link_store(node, *null_log, &txn);
  LinkSession session(node.config().link, IdentityOf(node), link_store, false, 0);
  OSRC_RETURN_IF_ERROR(session.ImportReply(messages, &result->delivered).WithContext(file));
  if (progress != nullptr) {
    progress->SetTotal(result->delivered);
    progress->Update(result->delivered);
  }
  store.PutMetaU64(txn, kMetaReplySeq, content.seq);
  txn.Commit();
  result->acked = session.acked();
  result->cursor = session.cursor();
  return {};
}

}  // namespace osrc::node

#include "node/bundle.h"

#include <spdlog/sinks/null_sink.h>

#include "node/hub_replies.h"
#include "node/reoffer.h"
#include "protocol/bundle.h"
#include "protocol/link_options.h"
#include "storage/hlc.h"

namespace osrc::node {
namespace {

constexpr size_t kChangesPerPush = 20000;

Status CheckHubKey(const Node& node) {
  if (node.config().hub_public_key.empty()) {
    return {ErrorCode::kBadInput, "no hub public key in node.toml", node.dir() + "/node.toml"};
  }
  return {};
}

}  // namespace

Status ExportBundle(Node& node, const std::string& file, BundleExportResult* result) {
  OSRC_RETURN_IF_ERROR(CheckHubKey(node));
  storage::Store& store = node.store();
  protocol::BundleContent content;
  content.site = node.config().site;
  content.created_ms = node.clock().NowMillis();
  {
    storage::WriteTxn txn(store.env());
    content.seq = store.GetMetaU64(txn, kMetaBundleSeq) + 1;
    store.PutMetaU64(txn, kMetaBundleSeq, content.seq);
    protocol::Hello hello;
    hello.version = protocol::kProtocolVersion;
    hello.site = content.site;
    hello.schema_hash = node.schema().hash();
    hello.log_head = store.LogHead(txn);
    hello.hub_cursor = store.GetMetaU64(txn, storage::kMetaCursor);
    hello.clock = storage::StampOf(node.clock().NowMillis());
    hello.epoch = std::string(store.GetMeta(txn, storage::kMetaEpoch).value_or(""));
    content.messages.push_back(protocol::EncodeMessage(hello));
    uint64_t acked = store.GetMetaU64(txn, storage::kMetaAcked);
    result->first = acked + 1;
    result->last = hello.log_head;
    for (uint64_t first = acked + 1; first <= hello.log_head; first += kChangesPerPush) {
      protocol::Push push;
      push.first = first;
      for (uint64_t seq = first; seq <= hello.log_head && seq < first + kChangesPerPush; ++seq) {
        auto entry = store.GetLog(txn, seq);
        if (!entry) throw Error(ErrorCode::kCorruption, "change log lacks " + std::to_string(seq));
        push.changes.emplace_back(*entry);
      }
      content.messages.push_back(protocol::EncodeMessage(push));
    }
    // The hub's own changes owed to it since its restore, all in one message.
    if (auto reoffer = NextReoffer(store, txn, protocol::kMaxBundleBytes / 2)) {
      result->handed_back = reoffer->changes.size();
      content.messages.push_back(protocol::EncodeMessage(*reoffer));
    }
    txn.Commit();
  }
  result->seq = content.seq;
  return protocol::WriteBundleFile(
      file, protocol::SealBundle(content, node.keys(), node.config().hub_public_key));
}

Status ImportReply(Node& node, const std::string& file, ReplyImportResult* result) {
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
    OSRC_RETURN_IF_ERROR(protocol::DecodeMessage(
        {reinterpret_cast<const uint8_t*>(frame.data()), frame.size()}, limits, &messages[i])
                             .WithContext(file));
  }
  if (messages.size() < 2 || messages.size() > 3 ||
      !std::holds_alternative<protocol::Welcome>(messages[0]) ||
      !std::holds_alternative<protocol::Deliver>(messages[1]) ||
      (messages.size() == 3 && !std::holds_alternative<protocol::ReofferAck>(messages[2]))) {
    return {ErrorCode::kBadBundle, "a reply holds a Welcome, a Deliver and maybe a ReofferAck",
            file};
  }
  auto null_log = spdlog::logger("node.bundle", std::make_shared<spdlog::sinks::null_sink_mt>());
  storage::Store& store = node.store();
  storage::WriteTxn txn(store.env());
  uint64_t exported = store.GetMetaU64(txn, kMetaBundleSeq);
  uint64_t imported = store.GetMetaU64(txn, kMetaReplySeq);
  if (content.seq > exported) {
    return {ErrorCode::kBadBundle, "reply to bundle " + std::to_string(content.seq) +
                                       ", which this site never exported", file};
  }
  if (content.seq < imported) {
    return {ErrorCode::kBadBundle, "reply to bundle " + std::to_string(content.seq) +
                                       " is older than the reply already imported (" +
                                       std::to_string(imported) + ")", file};
  }
  WelcomeOutcome outcome;
  OSRC_RETURN_IF_ERROR(
      ApplyWelcome(node, txn, std::get<protocol::Welcome>(messages[0]), /*live=*/false, 0,
                   null_log, &outcome)
          .WithContext(file));
  const auto& deliver = std::get<protocol::Deliver>(messages[1]);
  OSRC_RETURN_IF_ERROR(
      ApplyDeliver(node, txn, deliver, null_log, &result->cursor).WithContext(file));
  if (messages.size() == 3) {
    DropReoffered(store, txn, std::get<protocol::ReofferAck>(messages[2]).token);
  }
  store.PutMetaU64(txn, kMetaReplySeq, content.seq);
  txn.Commit();
  result->acked = outcome.acked;
  result->delivered = deliver.changes.size();
  return {};
}

}  // namespace osrc::node

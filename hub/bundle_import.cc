#include "hub/bundle_import.h"

#include "hub/apply.h"
#include "hub/delivery.h"
#include "hub/inbound.h"
#include "hub/sites.h"
#include "protocol/bundle.h"

namespace osrc::hub {
namespace {

constexpr size_t kReplyEntries = 10'000'000;

}  // namespace

Status ImportBundle(Hub& hub, const std::string& file, const std::string& reply_file,
                    BundleImportResult* result) {
  std::string sealed;
  OSRC_RETURN_IF_ERROR(protocol::ReadBundleFile(file, &sealed));
  std::string sender;
  OSRC_RETURN_IF_ERROR(protocol::BundleSender(sealed, &sender).WithContext(file));
  storage::Store& store = hub.store();
  std::optional<SiteEntry> site;
  {
    storage::ReadTxn txn(store.env());
    site = FindSiteByKey(store, txn, sender);
  }
  if (!site) return {ErrorCode::kNotEnrolled, "bundle sealed by a key not enrolled at this hub", file};
  protocol::BundleContent content;
  OSRC_RETURN_IF_ERROR(protocol::OpenBundle(sealed, hub.keys(), sender, &content).WithContext(file));
  if (content.reply) return {ErrorCode::kBadBundle, "this is a reply bundle, for a site", file};
  if (content.site != site->code) {
    return {ErrorCode::kBadBundle,
            "bundle names site " + content.site + " but its key is enrolled as " + site->code, file};
  }
  // Decode and check everything before applying anything.
  InboundLimits limits{{}, {}, hub.clock().NowMillis(), hub.config().max_skew_ms};
  limits.message.max_frame_bytes = protocol::kMaxBundleBytes;
  protocol::Hello hello;
  std::vector<Inbound> pushes;
  std::optional<protocol::Reoffer> reoffer;
  std::vector<protocol::Change> handed_back;
  for (size_t i = 0; i < content.messages.size(); ++i) {
    Inbound inbound;
    const std::string& frame = content.messages[i];
    OSRC_RETURN_IF_ERROR(
        DecodeInbound({reinterpret_cast<const uint8_t*>(frame.data()), frame.size()}, site->code,
                      hub.schema(), limits, &inbound)
            .WithContext(file + ": message " + std::to_string(i + 1)));
    if (auto* h = std::get_if<protocol::Hello>(&inbound.message); h && i == 0) {
      hello = *h;
    } else if (std::holds_alternative<protocol::Push>(inbound.message) && i > 0 && !reoffer) {
      pushes.push_back(std::move(inbound));
    } else if (auto* r = std::get_if<protocol::Reoffer>(&inbound.message); r && i > 0 && !reoffer) {
      reoffer = std::move(*r);
      OSRC_RETURN_IF_ERROR(
          CheckReoffer(*reoffer, hub.sealer(), hub.config().hub_id, limits, &handed_back)
              .WithContext(file + ": message " + std::to_string(i + 1)));
    } else {
      return {ErrorCode::kBadBundle, "unexpected message in a site bundle",
              file + ": message " + std::to_string(i + 1)};
    }
  }
  if (content.messages.empty()) return {ErrorCode::kBadBundle, "empty bundle", file};
  if (hello.site != site->code || hello.schema_hash != hub.schema().hash()) {
    return {ErrorCode::kBadBundle, "bundle hello does not match its site or the hub schema", file};
  }
  std::string epoch = hub.epoch();
  protocol::Welcome welcome;
  protocol::Deliver deliver;
  {
    storage::WriteTxn txn(store.env());
    SiteEntry entry = GetSite(store, txn, site->code).value_or(*site);
    if (content.seq < entry.bundle_seq) {
      return {ErrorCode::kBadBundle,
              "bundle " + std::to_string(content.seq) + " is older than bundle " +
                  std::to_string(entry.bundle_seq) + " already imported from " + site->code,
              file};
    }
    for (const Inbound& push : pushes) {
      size_t applied = 0;
      const auto& message = std::get<protocol::Push>(push.message);
      protocol::Ack ack = ApplyPush(store, txn, entry, message.first, push.changes, &applied);
      result->applied += applied;
      if (ack.gap) break;  // the reply tells the site where the hub stands
    }
    result->taken_back = TakeBack(store, txn, hub.schema(), handed_back);
    uint64_t now = hub.clock().NowMillis();
    entry.bundle_seq = content.seq;
    entry.last_contact_ms = now;
    uint64_t cursor = hello.epoch == epoch ? hello.hub_cursor : 0;
    deliver = ReadDeliverPage(store, txn, hub.sealer(), site->code, cursor, kReplyEntries);
    entry.cursor = std::max(entry.cursor, cursor);
    PutSite(store, txn, entry);
    welcome = {entry.acked, store.LogHead(txn), now, epoch, hub.config().max_skew_ms};
    txn.Commit();
    result->acked = entry.acked;
  }
  result->site = site->code;
  result->delivered = deliver.changes.size();
  protocol::BundleContent reply{site->code, content.seq, true, hub.clock().NowMillis(),
                                {protocol::EncodeMessage(welcome), protocol::EncodeMessage(deliver)}};
  if (reoffer) {
    reply.messages.push_back(
        protocol::EncodeMessage(protocol::ReofferAck{reoffer->token, welcome.hub_head}));
  }
  return protocol::WriteBundleFile(reply_file,
                                   protocol::SealBundle(reply, hub.keys(), site->public_key));
}

}  // namespace osrc::hub

#include "hub/bundle_import.h"

#include "hub/apply.h"
#include "hub/delivery.h"
#include "hub/erasures.h"
#include "hub/inbound.h"
#include "hub/received.h"
#include "hub/site_session.h"
#include "hub/sites.h"
#include "hub/writer.h"
#include "protocol/bundle.h"

namespace osrc::hub {

Status ImportBundle(Hub& hub, const std::string& file, const std::string& reply_file,
                    BundleImportResult* result, Progress* progress) {
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
  if (!site)
    return {ErrorCode::kNotEnrolled, "bundle sealed by a key not enrolled at this hub", file};
  protocol::BundleContent content;
  OSRC_RETURN_IF_ERROR(
      protocol::OpenBundle(sealed, hub.keys(), sender, &content).WithContext(file));
  if (content.reply) return {ErrorCode::kBadBundle, "this is a reply bundle, for a site", file};
  if (content.site != site->code) {
    return {ErrorCode::kBadBundle,
            "bundle names site " + content.site + " but its key is enrolled as " + site->code,
            file};
  }
  std::vector<replica::ErasedRecord> erased;  // the site's erasure orders applied
  // Decode and check everything before applying anything.
  uint64_t now = hub.clock().NowMillis();
  InboundLimits limits{{}, now, hub.config().max_skew_ms};
  limits.message.max_frame_bytes = protocol::kMaxBundleBytes;
  std::optional<protocol::Hello> hello;
  std::vector<Inbound> pushes;
  std::optional<protocol::Reoffer> reoffer;
  std::vector<protocol::Change> handed_back;
  for (size_t i = 0; i < content.messages.size(); ++i) {
    Inbound inbound;
    const std::string& frame = content.messages[i];
    std::string where = file + ": message " + std::to_string(i + 1);
    OSRC_RETURN_IF_ERROR(
        DecodeInbound({reinterpret_cast<const uint8_t*>(frame.data()), frame.size()}, site->code,
                      hub.schema(), limits, &inbound)
            .WithContext(where));
    if (auto* h = std::get_if<protocol::Hello>(&inbound.message); h && i == 0) {
      hello = std::move(*h);
    } else if (std::holds_alternative<protocol::Push>(inbound.message) && i > 0 && !reoffer) {
      pushes.push_back(std::move(inbound));
    } else if (auto* r = std::get_if<protocol::Reoffer>(&inbound.message); r && i > 0 && !reoffer) {
      reoffer = std::move(*r);
      OSRC_RETURN_IF_ERROR(
          CheckReoffer(*reoffer, hub.sealer(), hub.config().hub_id, limits, &handed_back)
              .WithContext(where));
    } else {
      return {ErrorCode::kBadBundle, "unexpected message in a site bundle", where};
    }
  }
  if (!hello) return {ErrorCode::kBadBundle, "a site bundle opens with a hello", file};
  SiteSession session(site->code, SessionOptionsOf(hub, /*bundle=*/true), now);
  auto refused = [&](const SiteSession::Output& out) -> Status {
    if (!out.refused) return {};
    return {out.refused->code, out.refused->message, file};
  };
  OSRC_RETURN_IF_ERROR(refused(session.OnHello(*hello, now, {})));
  protocol::Welcome welcome;
  protocol::Deliver deliver;
  std::optional<protocol::ReofferAck> reoffer_ack;
  {
    storage::WriteTxn txn(store.env());
    erased.clear();
    SiteEntry entry = GetSite(store, txn, site->code).value_or(*site);
    if (content.seq < entry.bundle_seq) {
      return {ErrorCode::kBadBundle,
              "bundle " + std::to_string(content.seq) + " is older than bundle " +
                  std::to_string(entry.bundle_seq) + " already imported from " + site->code,
              file};
    }
    // The session's steps, run inside this one transaction.
    bool gap = false;
    auto run = [&](SiteSession::Output out) -> Status {
      OSRC_RETURN_IF_ERROR(refused(out));
      for (SiteSession::Step& step : out.steps) {
        if (auto* send = std::get_if<SiteSession::Send>(&step)) {
          if (auto* w = std::get_if<protocol::Welcome>(&send->message)) welcome = *w;
        } else if (auto* push = std::get_if<SiteSession::ApplyPush>(&step)) {
          size_t applied = 0;
          protocol::Ack ack;
          OSRC_RETURN_IF_ERROR(ApplyPush(store, txn, hub.schema(), entry, push->first,
                                         push->changes, &applied, &ack, &erased,
                                         &result->refused_erased)
                                   .WithContext(file));
          gap = ack.gap;
          result->applied += applied;
          CountReceived(store, txn, site->code, hub.clock().NowMillis(), applied);
        } else if (auto* back = std::get_if<SiteSession::TakeBack>(&step)) {
          result->taken_back = TakeBack(store, txn, hub.schema(), back->changes);
          reoffer_ack = protocol::ReofferAck{back->token, store.LogHead(txn)};
        } else if (auto* progress = std::get_if<SiteSession::RecordProgress>(&step)) {
          UpdateProgress(entry, progress->last_contact_ms, progress->clock_skew_ms,
                         progress->cursor, progress->report);
        } else {
          const auto& read = std::get<SiteSession::ReadDeliverPage>(step);
          SealCache seals(hub.sealer(), 1);  // one page: each entry sealed once anyway
          deliver = ReadDeliverPage(store, txn, seals, site->code, read.cursor, read.max_entries,
                                    read.max_bytes);
          CheckDeliverPage(deliver);
        }
      }
      return {};
    };
    if (progress != nullptr) {
      uint64_t total = 0;
      for (const Inbound& push : pushes) total += push.changes.size();
      progress->SetTotal(total);
    }
    // Hub changes handed back first: after a restore, a site's push may reference a record the
    // hub created centrally and lost, which the hand-back restores. Merge is order-independent.
    if (reoffer) {
      OSRC_RETURN_IF_ERROR(
          run(session.OnReoffer(reoffer->token, std::move(handed_back), now)).WithContext(file));
    }
    for (Inbound& push : pushes) {
      if (progress != nullptr) progress->Update(result->applied);
      const auto& message = std::get<protocol::Push>(push.message);
      // After a gap the rest cannot apply either: the reply tells the site where the hub stands.
      OSRC_RETURN_IF_ERROR(run(session.OnPush(message.first, std::move(push.changes), now)));
      if (progress != nullptr) progress->Update(result->applied);
      if (gap) break;
    }
    OSRC_RETURN_IF_ERROR(run(session.OnEnd(now, {entry.acked, store.LogHead(txn)})));
    entry.bundle_seq = content.seq;
    PutSite(store, txn, entry);
    txn.Commit();
    result->acked = entry.acked;
  }
  OSRC_RETURN_IF_ERROR(AppendErasures(hub.dir(), erased, "site " + site->code, "erased at the site")
                           .WithContext(file));
  result->site = site->code;
  result->delivered = deliver.changes.size();
  protocol::BundleContent reply{
      site->code,
      content.seq,
      true,
      hub.clock().NowMillis(),
      {protocol::EncodeMessage(welcome),
       protocol::EncodeMessage(deliver, {.form = protocol::RunFormOf(hello->version)})}};
  if (reoffer_ack) reply.messages.push_back(protocol::EncodeMessage(*reoffer_ack));
  return protocol::WriteBundleFile(reply_file,
                                   protocol::SealBundle(reply, hub.keys(), site->public_key));
}

}  // namespace osrc::hub

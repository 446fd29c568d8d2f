#include "hub/inbound.h"

#include "storage/hlc.h"

namespace osrc::hub {

Status DecodeInbound(std::span<const uint8_t> frame, const std::string& site,
                     const config::Schema& schema, const InboundLimits& limits, Inbound* out,
                     protocol::RunHistory* history) {
  OSRC_RETURN_IF_ERROR(protocol::DecodeMessage(frame, limits.message, &out->message, history,
                                               protocol::PushChanges::kValues));
  auto* push = std::get_if<protocol::Push>(&out->message);
  if (push == nullptr) return {};
  // Sequences are dense from 1: a run starting at 0 or wrapping past 2^64 - 1 is no run of them.
  uint64_t last = push->first + (push->changes.size() - 1);
  if (push->first == 0 || last < push->first) {
    return {ErrorCode::kBadMessage, "push from sequence " + std::to_string(push->first) + " of " +
                                        std::to_string(push->changes.size()) +
                                        " changes is out of range"};
  }
  uint64_t horizon = storage::StampOf(limits.now_ms + limits.max_skew_ms);
  out->changes.resize(push->changes.size());
  for (size_t i = 0; i < push->changes.size(); ++i) {
    protocol::Change& change = out->changes[i];
    uint64_t expected = push->first + i;
    // The error's place, built only when a change fails.
    auto where = [&] { return "change " + std::to_string(expected); };
    auto where_record = [&] {
      return where() + ": " + protocol::RecordName(change.collection, change.id);
    };
    if (i < push->values.size() && push->values[i]) {
      change = std::move(*push->values[i]);
    } else if (Status decoded =
                   protocol::DecodeChange(push->changes[i], limits.message.change, &change);
               !decoded.ok()) {
      return decoded.WithContext(where());
    }
    if (change.origin != site) {
      return {ErrorCode::kForbidden, "origin " + change.origin + " is not the site " + site,
              where_record()};
    }
    if (change.seq != expected) {
      return {ErrorCode::kBadMessage, "sequence " + std::to_string(change.seq) + " out of order",
              where_record()};
    }
    if (Status checked = schema.CheckChange(change, site); !checked.ok()) {
      return checked.WithContext(where());
    }
    if (change.stamp > horizon) {
      return {ErrorCode::kClockSkew,
              "stamp more than " + std::to_string(limits.max_skew_ms) +
                  " ms ahead of the hub clock; correct the site clock",
              where_record()};
    }
  }
  push->changes.clear();  // decoded into `changes`
  push->values.clear();
  return {};
}

Status CheckReoffer(const protocol::Reoffer& reoffer, const protocol::Sealer& sealer,
                    const std::string& hub_id, const InboundLimits& limits,
                    std::vector<protocol::Change>* out) {
  uint64_t horizon = storage::StampOf(limits.now_ms + limits.max_skew_ms);
  out->assign(reoffer.changes.size(), {});
  for (size_t i = 0; i < reoffer.changes.size(); ++i) {
    std::string where = "handed-back change " + std::to_string(i + 1);
    if (i >= reoffer.seals.size() || !sealer.Verify(reoffer.changes[i], reoffer.seals[i])) {
      return {ErrorCode::kForbidden, "seal does not prove this hub wrote it", where};
    }
    protocol::Change& change = (*out)[i];
    OSRC_RETURN_IF_ERROR(protocol::DecodeChange(reoffer.changes[i], limits.message.change, &change)
                             .WithContext(where));
    if (change.origin != hub_id || change.stamp > horizon) {
      return {ErrorCode::kForbidden, "sealed, yet not a change of hub " + hub_id + " in time",
              where + ": " + protocol::RecordName(change.collection, change.id)};
    }
  }
  return {};
}

}  // namespace osrc::hub

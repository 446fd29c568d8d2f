#include "node/status.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "base/text.h"
#include "node/link_state.h"
#include "node/reoffer.h"
#include "storage/varint.h"

namespace osrc::node {
namespace {}  // namespace

NodeStatus ReadStatus(Node& node) {
  NodeStatus status;
  storage::Store& store = node.store();
  status.site = node.config().site;
  status.hub_endpoint = node.config().hub_endpoint;
  storage::ReadTxn txn(store.env());
  status.records = replica::CountRecords(store, txn);
  status.log_head = store.LogHead(txn);
  status.acked = store.GetMetaU64(txn, storage::kMetaAcked);
  status.cursor = store.GetMetaU64(txn, storage::kMetaCursor);
  status.last_contact_ms = store.GetMetaU64(txn, storage::kMetaLastContact);
  status.clock_offset_ms = static_cast<int64_t>(store.GetMetaU64(txn, storage::kMetaClockOffset));
  status.epoch = HexOf(store.GetMeta(txn, storage::kMetaEpoch).value_or(""));
  status.conflicts = store.ConflictCount(txn);
  status.owed_to_hub = OwedCount(store, txn);
  status.erased_by_hub = store.GetMetaU64(txn, storage::kMetaErasedByHub);
  status.last_erased = store.GetMeta(txn, storage::kMetaLastErased).value_or("");
  LinkReport link = ReadLinkReport(store, txn);
  status.link_state = link.state;
  status.last_error = link.last_error;
  status.last_error_ms = link.last_error_ms;
  status.store_used_bytes = store.env().used_bytes();
  status.store_map_bytes = store.env().map_size();
  return status;
}

std::string StatusText(const NodeStatus& s) {
  std::ostringstream out;
  out << "site            " << s.site << "\n"
      << "hub             " << (s.hub_endpoint.empty() ? "(not set)" : s.hub_endpoint) << "\n"
      << "link            " << (s.link_state.empty() ? "idle" : s.link_state) << "\n";
  if (!s.last_error.empty()) {
    out << "last failure    " << UtcTimeOf(s.last_error_ms) << "  " << s.last_error << "\n";
  }
  out << "last contact    " << UtcTimeOf(s.last_contact_ms) << "\n"
      << "hub epoch       " << (s.epoch.empty() ? "(none)" : s.epoch) << "\n"
      << "change log head " << s.log_head << "\n"
      << "acknowledged    " << s.acked << "\n"
      << "pending         " << s.pending() << "\n"
      << "reference data  version " << s.cursor << (s.cursor == 0 ? " (shipped defaults)" : "")
      << "\n"
      << "clock offset    " << s.clock_offset_ms << " ms\n"
      << "conflicts       " << s.conflicts << "\n";
  if (s.erased_by_hub > 0) {
    out << "erased by hub   " << s.erased_by_hub << " records, the last " << s.last_erased
        << " (writes to them are not kept)\n";
  }
  if (s.owed_to_hub > 0) {
    out << "to hand back    " << s.owed_to_hub << " hub changes, to the restored hub\n";
  }
  out << "store           " << StoreUseOf(s.store_used_bytes, s.store_map_bytes) << "\n"
      << "records\n";
  for (const auto& [collection, count] : s.records) {
    out << "  " << collection
        << std::string(collection.size() < 14 ? 14 - collection.size() : 1, ' ') << count << "\n";
  }
  return out.str();
}

std::string StatusJson(const NodeStatus& s) {
  nlohmann::ordered_json out;
  out["site"] = s.site;
  out["hub"] = s.hub_endpoint;
  out["link"] = s.link_state.empty() ? "idle" : s.link_state;
  out["last_error"] = s.last_error;
  out["last_error_ms"] = s.last_error_ms;
  out["last_contact_ms"] = s.last_contact_ms;
  out["epoch"] = s.epoch;
  out["log_head"] = s.log_head;
  out["acked"] = s.acked;
  out["pending"] = s.pending();
  out["reference_version"] = s.cursor;
  out["clock_offset_ms"] = s.clock_offset_ms;
  out["conflicts"] = s.conflicts;
  out["owed_to_hub"] = s.owed_to_hub;
  out["erased_by_hub"] = s.erased_by_hub;
  out["last_erased"] = s.last_erased;
  out["store_used_bytes"] = s.store_used_bytes;
  out["store_map_bytes"] = s.store_map_bytes;
  out["store_warning"] = StoreNearlyFull(s.store_used_bytes, s.store_map_bytes);
  nlohmann::ordered_json records = nlohmann::ordered_json::object();
  for (const auto& [collection, count] : s.records) records[collection] = count;
  out["records"] = records;
  return out.dump(2) + "\n";
}

}  // namespace osrc::node

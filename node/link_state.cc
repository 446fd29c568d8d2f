#include "node/link_state.h"

namespace osrc::node {

LinkReport ReadLinkReport(storage::Store& store, const storage::Txn& txn) {
  LinkReport report;
  report.state = std::string(store.GetMeta(txn, storage::kMetaLinkState).value_or(""));
  report.last_error = std::string(store.GetMeta(txn, storage::kMetaLastError).value_or(""));
  report.last_error_ms = store.GetMetaU64(txn, storage::kMetaLastErrorAt);
  return report;
}

void WriteLinkState(storage::Store& store, storage::WriteTxn& txn, std::string_view state,
                    std::string_view failure, uint64_t now_ms) {
  store.PutMeta(txn, storage::kMetaLinkState, state);
  if (failure.empty()) return;
  store.PutMeta(txn, storage::kMetaLastError, failure);
  store.PutMetaU64(txn, storage::kMetaLastErrorAt, now_ms);
}

}  // namespace osrc::node

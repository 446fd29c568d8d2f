#include "node/link_state.h"

namespace osrc::node {

LinkReport ReadLinkReport(storage::Store& store, const storage::Txn& txn) {
  LinkReport report;
  report.state = std::string(store.GetMeta(txn, kMetaLinkState).value_or(""));
  report.last_error = std::string(store.GetMeta(txn, kMetaLastError).value_or(""));
  return report;
}

void WriteLinkReport(storage::Store& store, storage::WriteTxn& txn, const LinkReport& report) {
  store.PutMeta(txn, kMetaLinkState, report.state);
  store.PutMeta(txn, kMetaLastError, report.last_error);
}

}  // namespace osrc::node

// The link state a running node records in its store, so `status` in another process shows it.
#pragma once

#include <string>

#include "storage/store.h"

namespace osrc::node {

inline constexpr std::string_view kMetaLinkState = "link_state";
inline constexpr std::string_view kMetaLastError = "last_error";

struct LinkReport {
  std::string state;       // e.g. "in step", "connecting", "backoff 4s"
  std::string last_error;  // reason of the last failure, empty if none
};

LinkReport ReadLinkReport(storage::Store& store, const storage::Txn& txn);
void WriteLinkReport(storage::Store& store, storage::WriteTxn& txn, const LinkReport& report);

}  // namespace osrc::node

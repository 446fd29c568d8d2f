// The link state a running node records in its store, so `status` in another process shows it.
#pragma once

#include <string>
#include <string_view>

#include "storage/store.h"

namespace osrc::node {

struct LinkReport {
  std::string state;           // e.g. "in step", "connecting", "backoff 4000 ms"
  std::string last_error;      // reason of the last failure, empty if none ever
  uint64_t last_error_ms = 0;  // when it happened (Unix ms)
};

LinkReport ReadLinkReport(storage::Store& store, const storage::Txn& txn);
// Records the link state; a failure (non-empty) replaces the last one, which stays until then.
void WriteLinkState(storage::Store& store, storage::WriteTxn& txn, std::string_view state,
                    std::string_view failure = {}, uint64_t now_ms = 0);

}  // namespace osrc::node

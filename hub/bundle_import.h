// Import of a site's bundle at the hub: opened with the hub key, every change checked as a
// network push would be, applied in one transaction (idempotently), and a reply bundle sealed to
// the site (acknowledgement, reference data, corrections). Refused whole before anything is
// applied when it is tampered with, truncated, older than one already imported, or from a key
// or site that is not enrolled.
#pragma once

#include <string>

#include "base/progress.h"
#include "hub/hub.h"

namespace osrc::hub {

struct BundleImportResult {
  std::string site;
  uint64_t applied = 0;
  uint64_t acked = 0;
  size_t delivered = 0;
  size_t taken_back = 0;      // hub changes the site handed back that this hub lacked
  size_t refused_erased = 0;  // the site's writes to records erased here: nothing merged
};

// `progress` (may be null) counts the changes applied.
Status ImportBundle(Hub& hub, const std::string& file, const std::string& reply_file,
                    BundleImportResult* result, Progress* progress = nullptr);

}  // namespace osrc::hub

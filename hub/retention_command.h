// `osrc-hub retention`: lists (--dry-run) or erases (--apply) the site records hub.toml's
// [retention] periods no longer keep (hub/retention.h), by erasure orders that reach the sites.
#pragma once

#include <string>

#include "base/error.h"

namespace osrc::hub {

struct RetentionOptions {
  bool dry_run = false;  // exactly one of dry_run and apply
  bool apply = false;
  std::string as_of;  // YYYY-MM-DD; empty: today (UTC)
  bool as_json = false;
};

Status CommandRetention(const std::string& dir, const RetentionOptions& options);

}  // namespace osrc::hub

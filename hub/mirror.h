// `osrc-hub mirror --postgres CONNINFO [--once]`: keeps a PostgreSQL database in step with the
// hub's merged records for the central office's analysts. One table per collection (id text
// primary key, a typed column per schema field), filled from the store's feed (store.h) in
// batches; each batch and the feed seq it reaches (table osrc_mirror_cursor) commit in one
// PostgreSQL transaction, so a killed mirror resumes where PostgreSQL stands. Personal fields
// follow hub.toml [mirror] pii: left out (omit, the default), a keyed BLAKE2b hash per value
// (pseudonymise; key in <hub>/mirror.key), or as they are (include). Read-only on the store.
#pragma once

#include <cstddef>
#include <string>

#include "base/error.h"

namespace osrc::hub {

struct MirrorOptions {
  std::string conninfo;  // libpq connection string or URI
  bool once = false;     // one pass to the feed's head, then exit; else follow until a signal
  size_t batch = 5000;   // feed entries per PostgreSQL transaction
};

Status CommandMirror(const std::string& dir, const MirrorOptions& options);

// `conninfo` without its password, for the audit trail and logs.
std::string ConninfoForDisplay(const std::string& conninfo);

}  // namespace osrc::hub

// The hub's erasure register: `<dir>/erasures.jsonl`, append-only JSON Lines, one entry per
// record erased (collection, id, stamp of the erasure order, time, actor, reason). It lives
// outside the store, so restoring a backup does not roll it back: Restore erases again every
// record it lists before the hub serves a site. Appends are durable (fsync) and serialised by a
// lock on the file. Thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "replica/erase.h"

namespace osrc::hub {

inline constexpr std::string_view kErasureFile = "erasures.jsonl";

struct ErasureEntry {
  replica::ErasedRecord record;
  std::string time;  // UTC, 2026-12-04T12:00:00Z
  std::string actor;
  std::string reason;
};

// Appends one entry per record of `erased`, durably.
Status AppendErasures(const std::string& dir, const std::vector<replica::ErasedRecord>& erased,
                      const std::string& actor, const std::string& reason);
// Every entry; an error names the line that does not parse. None when there is no register.
Status ReadErasures(const std::string& dir, std::vector<ErasureEntry>* out);
// Copies the register of `from_dir` whole to `to_dir`; nothing when absent.
Status CopyErasures(const std::string& from_dir, const std::string& to_dir);

}  // namespace osrc::hub

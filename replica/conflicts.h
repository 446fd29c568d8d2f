// Conflicts as users see them (`osrc-hub conflicts list`, `osrc-node conflicts`): each with a
// stable id, filtered by site, collection and field, personal values masked unless asked for.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "config/schema.h"
#include "storage/store.h"

namespace osrc::replica {

// The conflicts key of `c` (storage/store.h grammar).
std::string ConflictKey(const storage::StoredConflict& c);
// A stable id: 16 hex digits of the FNV-1a 64 hash of the conflicts key.
std::string ConflictId(const storage::StoredConflict& c);

struct ConflictFilter {
  std::string site;  // the record id's site prefix ("MAS" for MAS-P1); empty: all
  std::string collection;
  std::string field;
  bool Matches(const storage::StoredConflict& c) const;
};

// Whether the schema marks the conflict's field personal (pii = true).
bool IsPersonal(const config::Schema& schema, const storage::StoredConflict& c);

// One conflict as a text line or a JSON line (with "\n"); personal values read "(personal)"
// unless `show_personal`.
std::string ConflictLine(const config::Schema& schema, const storage::StoredConflict& c,
                         bool show_personal, bool as_json);

// Calls `visit` for each conflict of `store` matching `filter`, in key order.
void ForEachMatchingConflict(const storage::Store& store, const storage::Txn& txn,
                             const ConflictFilter& filter,
                             const std::function<void(const storage::StoredConflict&)>& visit);

}  // namespace osrc::replica

// Retention: which site records have been kept long enough (`[retention]` in hub.toml, a period
// per collection) and must be erased. A record's period runs from the last activity of the
// people and events it belongs to:
// - a record's own activity is its latest non-personal date or datetime value (a service's
//   date, a participant's registration; not a birth date), or the day of its last write when it
//   holds none;
// - a root record (one with no ref to another site record: a participant, a training) is active
//   as late as itself and every live record that references it (services, referrals,
//   attendance);
// - a root record goes when that activity is older than its collection's period; any other
//   record goes when every root it references is older than the period of its own collection.
// Erasing a record erases the records that reference it, as `osrc-hub erase` does.
// Thread-compatible.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "config/data_config.h"
#include "config/schema.h"
#include "replica/erase.h"
#include "storage/store.h"

namespace osrc::hub {

// The first day still kept: `as_of` (YYYY-MM-DD) less the period (31 March less 1m: 28 or 29
// February). Records whose activity is before it go.
std::string RetentionCutoff(std::string_view as_of, const config::RetentionPeriod& period);

struct RetentionItem {
  std::string collection;
  std::string id;
  std::string last_activity;  // YYYY-MM-DD
  std::string rule;           // e.g. "services 5y"
};

struct RetentionPlan {
  std::vector<RetentionItem> due;            // records whose period is over, in key order
  std::vector<replica::ErasedRecord> erase;  // them, then their referrers, each once
};

// Plans retention as of `as_of` under `periods` (collection -> period text, hub.toml's
// [retention]). An error names an unknown collection, a reference collection or a bad period.
Status PlanRetention(storage::Store& store, const storage::Txn& txn, const config::Schema& schema,
                     const std::map<std::string, std::string>& periods, std::string_view as_of,
                     RetentionPlan* plan);

}  // namespace osrc::hub

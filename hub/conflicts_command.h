// `osrc-hub conflicts list` and `conflicts resolve`: conflicts worked to the end. A resolution
// keeps the winner (dismiss) or writes the loser's value or a new one as a central correction
// (delivered to the owning site like `osrc-hub put`); either way it is audited, recorded in
// `<dir>/conflicts-resolved.jsonl` (one JSON line: conflict, record, field, decision, value
// ("(personal)" for a personal field), actor, time) and the conflict leaves the open list.
#pragma once

#include <string>

#include "base/error.h"
#include "replica/conflicts.h"

namespace osrc::hub {

inline constexpr std::string_view kResolvedConflictsFile = "conflicts-resolved.jsonl";

struct ConflictsListOptions {
  replica::ConflictFilter filter;
  bool as_json = false;
  bool show_personal = false;  // audited ("view personal")
};

struct ResolveOptions {
  std::string id;     // ConflictId
  std::string keep;   // "winner" or "loser"; empty with `value`
  std::string value;  // a JSON value for the field
};

Status CommandConflictsList(const std::string& dir, const ConflictsListOptions& options);
class Hub;
// The resolution itself, on an opened hub, by `actor` (audited and recorded as them);
// `*outcome` says what was done ("resolved ID (participants/MAS-P1 field sex): dismissed, ...").
// The caller serialises it with the hub's other writers (the console holds the store guard).
Status ResolveConflict(Hub& hub, const ResolveOptions& options, const std::string& actor,
                       std::string* outcome);
Status CommandConflictsResolve(const std::string& dir, const ResolveOptions& options);

}  // namespace osrc::hub

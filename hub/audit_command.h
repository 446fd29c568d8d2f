// `osrc-hub audit` (list the audit trail) and `osrc-hub audit verify` (check its chain).
#pragma once

#include <string>

#include "base/error.h"

namespace osrc::hub {

// Entries from `since` (YYYY-MM-DD; empty: all), as a table or JSON Lines.
Status CommandAudit(const std::string& dir, const std::string& since, bool as_json);
Status CommandAuditVerify(const std::string& dir);

}  // namespace osrc::hub

#include "hub/audit_command.h"

#include <iostream>

#include "config/data_config.h"
#include "config/schema.h"
#include "hub/audit.h"

namespace osrc::hub {

Status CommandAudit(const std::string& dir, const std::string& since, bool as_json) {
  if (!since.empty() && !config::IsDate(since)) {
    return {ErrorCode::kBadInput, "not a date (YYYY-MM-DD)", "--since " + since};
  }
  config::HubConfig config;
  OSRC_RETURN_IF_ERROR(config::LoadHubConfig(dir, &config));  // a hub folder, readable
  std::vector<AuditEntry> entries;
  OSRC_RETURN_IF_ERROR(ReadAudit(dir, &entries));
  for (const AuditEntry& e : entries) {
    if (e.time.substr(0, 10) < since) continue;
    if (as_json) {
      std::cout << AuditLine(e) << "\n";
    } else {
      std::cout << e.seq << "  " << e.time << "  " << e.actor << "  " << e.action << "  "
                << e.target << (e.reason.empty() ? "" : "  (" + e.reason + ")") << "\n";
    }
  }
  return {};
}

Status CommandAuditVerify(const std::string& dir) {
  config::HubConfig config;
  OSRC_RETURN_IF_ERROR(config::LoadHubConfig(dir, &config));
  size_t entries = 0;
  OSRC_RETURN_IF_ERROR(VerifyAudit(dir, &entries).WithContext(dir));
  std::cout << "audit trail intact: " << entries << " entries chained\n";
  return {};
}

}  // namespace osrc::hub

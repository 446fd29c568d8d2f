// `osrc-hub report`: a published report computed from the hub's merged records, with disclosure
// control at the hub.toml threshold unless --k says otherwise.
#pragma once

#include <optional>
#include <string>

#include "base/error.h"
#include "report/reports.h"

namespace osrc::hub {

struct ReportOptions {
  report::ReportRequest request;
  std::string by;  // comma-separated, as given
  std::string format = "table";
  std::optional<uint64_t> k;
};

Status CommandReport(const std::string& dir, ReportOptions options);

}  // namespace osrc::hub

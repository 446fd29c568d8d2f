#include "hub/report_command.h"

#include <iostream>

#include "base/text.h"
#include "hub/audit.h"
#include "hub/hub.h"
#include "report/disclosure.h"
#include "report/report_format.h"

namespace osrc::hub {
Status CommandReport(const std::string& dir, ReportOptions options) {
  report::Format format;
  OSRC_RETURN_IF_ERROR(report::ParseFormat(options.format, &format));
  for (size_t start = 0; start < options.by.size();) {
    size_t comma = std::min(options.by.find(',', start), options.by.size());
    if (comma > start) options.request.by.push_back(options.by.substr(start, comma - start));
    start = comma + 1;
  }
  if (options.k && *options.k != 1 && *options.k < report::kMinThreshold) {
    return {ErrorCode::kBadInput,
            "must be 3 or more, or 1 for an unprotected working table (not for publication)",
            "--k " + std::to_string(*options.k)};
  }
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  uint64_t k = options.k.value_or(hub->config().report_k);
  OSRC_RETURN_IF_ERROR(
      AppendAudit(dir, CommandLineActor(), "report",
                  options.request.name + " by " + options.by + ", k " + std::to_string(k)));
  report::CountTable table({});
  {
    storage::ReadTxn txn(hub->store().env());
    OSRC_RETURN_IF_ERROR(report::BuildReport(hub->store(), txn, options.request,
                                             UtcTimeOf(hub->clock().NowMillis()).substr(0, 10),
                                             &table));
  }
  report::Suppression suppression = report::Suppress(table, k);
  std::cout << report::FormatReport(options.request, table, suppression, k, format);
  std::cout.flush();
  if (!std::cout) return {ErrorCode::kIo, "cannot write the report", "stdout"};
  return {};
}

}  // namespace osrc::hub

// A report as published: a table for the terminal, CSV or JSON, one row per cell (the dimension
// values, then the count; margins have the value "Total"), suppressed counts shown as "c".
// Output without disclosure control (k = 1) says "not for publication".
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "report/count_table.h"
#include "report/disclosure.h"
#include "report/reports.h"

namespace osrc::report {

enum class Format { kTable, kCsv, kJson };

Status ParseFormat(std::string_view text, Format* out);

std::string FormatReport(const ReportRequest& request, const CountTable& table,
                         const Suppression& suppression, uint64_t k, Format format);

}  // namespace osrc::report

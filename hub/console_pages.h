// The console's pages as HTML: one function per page, from plain data, so tests render them
// without a server. Inline CSS only, no script, nothing fetched from elsewhere; every value from
// the store or the request passes through HtmlEscape.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "hub/console_auth.h"
#include "hub/operators.h"
#include "hub/received.h"
#include "hub/status.h"
#include "replica/conflicts.h"

namespace osrc::hub {

// &, <, >, " and ' as entities.
std::string HtmlEscape(std::string_view text);

// Who is looking, and what the last action said.
struct PageContext {
  std::string name;
  Role role = Role::kViewer;
  std::string csrf;
  std::string notice;  // shown in green
  std::string error;   // shown in red
};

// The login form, carrying `csrf` (the token of the login cookie).
std::string LoginPageHtml(std::string_view error, std::string_view csrf);
// A page with the navigation, `ctx`'s notice or error, and `body`.
std::string PageHtml(std::string_view title, const PageContext& ctx, std::string_view body);

// Hours shown by the chart of changes received: the last seven days.
inline constexpr uint64_t kChartHours = 7 * 24;
// Bars of changes received per hour, oldest left, for the kChartHours hours up to `now_hour`
// (hours since the epoch); `counts` maps hours to changes. Scaled to the largest hour.
std::string ChangesChartSvg(const std::map<uint64_t, uint64_t>& counts, uint64_t now_hour);

std::string SitesPageHtml(const HubStatus& status, const HourlyCounts& received,
                          const PageContext& ctx);
// `conflicts`: ConflictLine JSON objects (personal values already masked for viewers), at most
// a page of them; `total`: how many match the filter.
std::string ConflictsPageHtml(const std::vector<nlohmann::json>& conflicts, size_t total,
                              const replica::ConflictFilter& filter, const PageContext& ctx);
std::string ReferencePageHtml(const HubStatus& status, const PageContext& ctx);
std::string OperatorsPageHtml(const std::vector<Operator>& operators, const PageContext& ctx);

}  // namespace osrc::hub

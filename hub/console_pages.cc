#include "hub/console_pages.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "base/text.h"
#include "storage/hlc.h"

namespace osrc::hub {
namespace {

constexpr std::string_view kStyle = R"(
*{box-sizing:border-box}body{font:15px/1.4 system-ui,sans-serif;margin:0;color:#1c2430;background:#f4f6f8}
header{background:#1f3a5f;color:#fff;padding:.5em 1em;display:flex;flex-wrap:wrap;gap:.3em 1.2em;align-items:center}
header a{color:#fff}header .who{margin-left:auto}main{padding:1em;max-width:1400px}
.scroll{overflow-x:auto}table{border-collapse:collapse;background:#fff;width:100%}
th,td{border-bottom:1px solid #d5dbe1;padding:.35em .6em;text-align:left;vertical-align:top}
th{background:#e8edf2;white-space:nowrap}.on{color:#17692c;font-weight:600}.off{color:#a12d2d}
.notice{background:#dff3e4;padding:.5em}.error{background:#f8dede;padding:.5em}
form.inline{display:inline}input,select,button{font:inherit;margin:.1em}
.chart{display:flex;flex-wrap:wrap;gap:1em}.chart figure{margin:0;background:#fff;padding:.4em}
svg{width:340px;max-width:100%;height:auto}.muted{color:#5b6672}
svg.report{max-width:none}td.n{text-align:right;font-variant-numeric:tabular-nums}
@media (max-width:700px){main{padding:.4em}th,td{padding:.3em}}
)";

std::string Cell(std::string_view text) { return "<td>" + HtmlEscape(text) + "</td>"; }

std::string CsrfField(const PageContext& ctx) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + HtmlEscape(ctx.csrf) + "\">";
}

// "512 B/s", "3.2 kB/s", "1.5 MB/s".
std::string RateOf(uint64_t bytes_per_second) {
  char text[32];
  if (bytes_per_second < 1000) {
    std::snprintf(text, sizeof text, "%llu B/s", static_cast<unsigned long long>(bytes_per_second));
  } else if (bytes_per_second < 1'000'000) {
    std::snprintf(text, sizeof text, "%.1f kB/s", bytes_per_second / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%.1f MB/s", bytes_per_second / 1e6);
  }
  return text;
}

std::string SkewOf(int64_t ms) {
  std::ostringstream out;
  out << (ms >= 0 ? "+" : "") << ms / 1000.0 << " s";
  return out.str();
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

static std::string Document(std::string_view title, std::string_view header,
                            std::string_view body) {
  std::string out =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>";
  out += HtmlEscape(title);
  out += " · osrc hub</title><style>";
  out += kStyle;
  out += "</style></head><body>";
  out += header;
  out += "<main>";
  out += body;
  out += "</main></body></html>";
  return out;
}

std::string LoginPageHtml(std::string_view error, std::string_view csrf) {
  std::string body = "<h1>Log in</h1>";
  if (!error.empty()) body += "<p class=\"error\" role=\"alert\">" + HtmlEscape(error) + "</p>";
  body +=
      "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"csrf\" value=\"" +
      HtmlEscape(csrf) +
      "\"><p><label>Name<br><input name=\"name\" "
      "autocomplete=\"username\" required></label></p><p><label>Password<br><input "
      "type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label></p>"
      "<p><button type=\"submit\">Log in</button></p></form>";
  return Document("Log in", "<header><strong>osrc hub console</strong></header>", body);
}

std::string PageHtml(std::string_view title, const PageContext& ctx, std::string_view body) {
  std::string header =
      "<header><strong>osrc hub</strong><nav><a href=\"/sites\">Sites</a> · <a "
      "href=\"/conflicts\">Conflicts</a> · <a href=\"/reference\">Reference data</a> · <a "
      "href=\"/statistics\">Statistics</a> · <a href=\"/operators\">Operators</a></nav><span "
      "class=\"who\">" +
      HtmlEscape(ctx.name) + " (" + std::string(RoleName(ctx.role)) +
      ") <form class=\"inline\" method=\"post\" action=\"/logout\">" + CsrfField(ctx) +
      "<button type=\"submit\">Log out</button></form></span></header>";
  std::string text = "<h1>" + HtmlEscape(title) + "</h1>";
  if (!ctx.notice.empty()) text += "<p class=\"notice\">" + HtmlEscape(ctx.notice) + "</p>";
  if (!ctx.error.empty())
    text += "<p class=\"error\" role=\"alert\">" + HtmlEscape(ctx.error) + "</p>";
  text += body;
  return Document(title, header, text);
}

std::string ChangesChartSvg(const std::map<uint64_t, uint64_t>& counts, uint64_t now_hour) {
  const uint64_t first = now_hour + 1 >= kChartHours ? now_hour + 1 - kChartHours : 0;
  uint64_t peak = 0;
  for (auto it = counts.lower_bound(first); it != counts.end() && it->first <= now_hour; ++it) {
    peak = std::max(peak, it->second);
  }
  constexpr int kHeight = 60;
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                    std::to_string(2 * kChartHours) + " " + std::to_string(kHeight + 2) +
                    "\" role=\"img\"><title>changes received per hour, last 7 days (peak " +
                    std::to_string(peak) + ")</title>";
  // A line per day boundary, then one bar per hour that received anything.
  for (uint64_t day = 1; day < 7; ++day) {
    out += "<line x1=\"" + std::to_string(day * 48) + "\" y1=\"0\" x2=\"" +
           std::to_string(day * 48) + "\" y2=\"" + std::to_string(kHeight) +
           "\" stroke=\"#d5dbe1\" stroke-width=\"0.5\"/>";
  }
  out += "<line x1=\"0\" y1=\"" + std::to_string(kHeight) + "\" x2=\"" +
         std::to_string(2 * kChartHours) + "\" y2=\"" + std::to_string(kHeight) +
         "\" stroke=\"#8a96a3\" stroke-width=\"0.5\"/>";
  for (auto it = counts.lower_bound(first); it != counts.end() && it->first <= now_hour; ++it) {
    if (it->second == 0) continue;
    uint64_t height = std::max<uint64_t>(1, it->second * kHeight / peak);
    out += "<rect x=\"" + std::to_string(2 * (it->first - first)) + "\" y=\"" +
           std::to_string(kHeight - height) + "\" width=\"1.6\" height=\"" +
           std::to_string(height) + "\" fill=\"#2f6db5\"><title>" +
           UtcTimeOf(it->first * 3600 * 1000) + ": " + std::to_string(it->second) +
           "</title></rect>";
  }
  out += "</svg>";
  return out;
}

std::string SitesPageHtml(const HubStatus& status, const HourlyCounts& received,
                          const PageContext& ctx) {
  std::string body =
      "<div class=\"scroll\"><table><thead><tr><th>Site</th><th>State</th><th>Last "
      "contact</th><th>Changes held</th><th>To send (as reported)</th><th>Oldest "
      "unsent</th><th>Conflicts</th><th>Clock skew</th><th>Link rate</th><th>Round "
      "trip</th><th>Reference version</th></tr></thead><tbody>";
  size_t online = 0;
  for (const SiteStatus& site : status.sites) {
    if (site.online) ++online;
    std::string name = site.entry.code;
    if (!site.entry.name.empty()) name += " — " + site.entry.name;
    if (site.entry.revoked) name += " (revoked)";
    std::string state =
        site.online ? "<td class=\"on\">online</td>" : "<td class=\"off\">offline</td>";
    std::string contact = ContactOf(site, status.now_ms);
    if (site.entry.last_contact_ms != 0)
      contact += " (" + UtcTimeOf(site.entry.last_contact_ms) + ")";
    const SiteReport& report = site.entry.report;
    std::string to_send = "—", oldest = "—", rate = "—", round_trip = "—";
    if (report.at_ms != 0) {
      to_send = std::to_string(ToSend(site.entry)) + " (" +
                (status.now_ms > report.at_ms ? DurationOf(status.now_ms - report.at_ms) : "0s") +
                " ago)";
      uint64_t oldest_ms = storage::MillisOf(report.oldest_unsent);
      oldest = ToSend(site.entry) == 0 || oldest_ms == 0 ? "none"
               : status.now_ms > oldest_ms               ? DurationOf(status.now_ms - oldest_ms)
                                                         : "0s";
    }
    if (report.link_rate != 0) rate = RateOf(report.link_rate);
    if (report.round_trip_ms != 0) round_trip = std::to_string(report.round_trip_ms) + " ms";
    body += "<tr data-site=\"" + HtmlEscape(site.entry.code) + "\">" + Cell(name) + state +
            Cell(contact) + Cell(std::to_string(site.entry.acked)) + Cell(to_send) + Cell(oldest) +
            Cell(std::to_string(site.conflicts)) +
            Cell(site.entry.last_contact_ms ? SkewOf(site.entry.clock_skew_ms) : "—") + Cell(rate) +
            Cell(round_trip) +
            Cell(std::to_string(site.entry.cursor) + " of " + std::to_string(status.log_head)) +
            "</tr>";
  }
  body += "</tbody></table></div><p class=\"muted\">" + std::to_string(online) + " of " +
          std::to_string(status.sites.size()) +
          " sites online. Changes held: the highest change number of the site the hub holds. "
          "Reference version: the hub change number the site has applied, of the hub's latest. "
          "To send: the site's changes the hub does not hold yet, as of the site's last report "
          "(at each connection and keep-alive); oldest unsent: the age of the first of them. "
          "Link rate and round trip: as the site measured them (— before it has).</p>";
  body +=
      "<h2>Changes received per hour, last 7 days</h2><p class=\"muted\">Changes merged from "
      "each site, over the network or in bundles.</p><div class=\"chart\">";
  const uint64_t now_hour = status.now_ms / 3600000;
  static const std::map<uint64_t, uint64_t> kNone;
  for (const SiteStatus& site : status.sites) {
    auto it = received.find(site.entry.code);
    body += "<figure><figcaption>" + HtmlEscape(site.entry.code) + "</figcaption>" +
            ChangesChartSvg(it == received.end() ? kNone : it->second, now_hour) + "</figure>";
  }
  body += "</div>";
  return PageHtml("Sites", ctx, body);
}

std::string ConflictsPageHtml(const std::vector<nlohmann::json>& conflicts, size_t total,
                              const replica::ConflictFilter& filter, const PageContext& ctx) {
  auto field = [](std::string_view name, std::string_view label, const std::string& value) {
    return "<label>" + std::string(label) + " <input name=\"" + std::string(name) + "\" value=\"" +
           HtmlEscape(value) + "\" size=\"10\"></label> ";
  };
  std::string body =
      "<form method=\"get\" action=\"/conflicts\">" + field("site", "Site", filter.site) +
      field("collection", "Collection", filter.collection) + field("field", "Field", filter.field) +
      "<button type=\"submit\">Filter</button></form><p>" + std::to_string(total) +
      " open conflicts match" +
      (total > conflicts.size() ? "; the first " + std::to_string(conflicts.size()) + " shown"
                                : "") +
      ".</p>";
  body +=
      "<div class=\"scroll\"><table><thead><tr><th>Record</th><th>Field</th><th>Kept</th><th>"
      "Lost</th><th>Resolve</th></tr></thead><tbody>";
  auto side = [](const nlohmann::json& v, bool deleted) {
    std::string value = deleted                  ? "(record deleted)"
                        : v["value"].is_string() ? v["value"].get<std::string>()
                                                 : v["value"].dump();
    return "<td><code>" + HtmlEscape(value) + "</code><br><span class=\"muted\">from " +
           HtmlEscape(v["origin"].get<std::string>()) + " at " +
           HtmlEscape(v["time"].get<std::string>()) + "</span></td>";
  };
  for (const nlohmann::json& c : conflicts) {
    std::string id = c["conflict"].get<std::string>();
    body += "<tr data-conflict=\"" + HtmlEscape(id) + "\">" +
            Cell(c["collection"].get<std::string>() + "/" + c["id"].get<std::string>()) +
            Cell(c["field"].get<std::string>() + (c["personal"].get<bool>() ? " (personal)" : "")) +
            side(c["winner"], c["winner"]["deleted"].get<bool>()) + side(c["loser"], false);
    if (MayChange(ctx.role)) {
      std::string open = "<form class=\"inline\" method=\"post\" action=\"/conflicts/resolve\">" +
                         CsrfField(ctx) + "<input type=\"hidden\" name=\"id\" value=\"" +
                         HtmlEscape(id) + "\">";
      body += "<td>" + open +
              "<input type=\"hidden\" name=\"keep\" value=\"winner\"><button type=\"submit\">"
              "Keep kept</button></form> " +
              open +
              "<input type=\"hidden\" name=\"keep\" value=\"loser\"><button type=\"submit\">"
              "Take lost</button></form> " +
              open +
              "<input name=\"value\" placeholder=\"JSON value\" size=\"10\" required "
              "aria-label=\"new value\"><button type=\"submit\">Set</button></form></td>";
    } else {
      body += "<td class=\"muted\">admins only</td>";
    }
    body += "</tr>";
  }
  body += "</tbody></table></div>";
  if (!MayChange(ctx.role)) body += "<p class=\"muted\">Personal values are shown to admins.</p>";
  return PageHtml("Conflicts", ctx, body);
}

std::string ReferencePageHtml(const HubStatus& status, const PageContext& ctx) {
  std::string body =
      "<p>Reference version (the hub's latest change number): " + std::to_string(status.log_head) +
      "</p><div class=\"scroll\"><table><thead><tr><th>Collection</th><th>Records</th></tr>"
      "</thead><tbody>";
  for (const auto& [collection, count] : status.reference) {
    body += "<tr>" + Cell(collection) + Cell(std::to_string(count)) + "</tr>";
  }
  body += "</tbody></table></div>";
  if (MayChange(ctx.role)) {
    body +=
        "<h2>Import</h2><form method=\"post\" action=\"/reference/import\" "
        "enctype=\"multipart/form-data\">" +
        CsrfField(ctx) + "<p><label>Collection <select name=\"collection\">";
    for (const auto& [collection, count] : status.reference) {
      body += "<option>" + HtmlEscape(collection) + "</option>";
    }
    body +=
        "</select></label></p><p><label>File (CSV or JSON Lines, all of it or nothing) "
        "<input type=\"file\" name=\"file\" accept=\".csv,.jsonl,.json\" required></label></p>"
        "<p><button type=\"submit\">Import</button></p></form>";
  }
  return PageHtml("Reference data", ctx, body);
}

std::string OperatorsPageHtml(const std::vector<Operator>& operators, const PageContext& ctx) {
  const bool admin = MayChange(ctx.role);
  std::string body =
      "<div class=\"scroll\"><table><thead><tr><th>Name</th><th>Role</th><th>"
      "Created</th>" +
      std::string(admin ? "<th></th>" : "") + "</tr></thead><tbody>";
  for (const Operator& op : operators) {
    body += "<tr>" + Cell(op.name) + Cell(RoleName(op.role)) + Cell(UtcTimeOf(op.created_ms));
    if (admin) {
      body += "<td><form class=\"inline\" method=\"post\" action=\"/operators/remove\">" +
              CsrfField(ctx) + "<input type=\"hidden\" name=\"name\" value=\"" +
              HtmlEscape(op.name) + "\"><button type=\"submit\">Remove</button></form></td>";
    }
    body += "</tr>";
  }
  body += "</tbody></table></div>";
  if (admin) {
    body += "<h2>Add an operator</h2><form method=\"post\" action=\"/operators/add\">" +
            CsrfField(ctx) +
            "<p><label>Name <input name=\"name\" required pattern=\"[A-Za-z0-9._\\-]{1,64}\">"
            "</label> <label>Role <select name=\"role\"><option>viewer</option><option>admin"
            "</option></select></label> <label>Password <input type=\"password\" name=\"password\" "
            "minlength=\"" +
            std::to_string(kMinPasswordLength) +
            "\" required autocomplete=\"new-password\"></label> <button type=\"submit\">Add"
            "</button></p></form>";
  }
  return PageHtml("Operators", ctx, body);
}

}  // namespace osrc::hub

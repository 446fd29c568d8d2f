#include "hub/console_statistics.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "config/schema.h"

namespace osrc::hub {
namespace {

constexpr std::string_view kSuppressed = "c";
constexpr const char* kPalette[] = {"#2f6db5", "#e08a2c", "#3a9a5b", "#b3424a",
                                    "#7b5ea7", "#8a6d3b", "#d16ba5", "#5b6672"};

// Percent-encodes all but letters, digits and -_.~ (a query string's value).
std::string UrlEncode(std::string_view text) {
  constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

std::string LevelName(const report::Dimension& dim, size_t level) {
  return level == dim.levels.size() ? std::string(report::kTotal) : dim.levels[level];
}

std::string CountText(const StatisticsResult& r, const std::vector<size_t>& coords) {
  size_t cell = r.table.CellOf(coords);
  return r.suppression.hidden[cell] ? std::string(kSuppressed)
                                    : std::to_string(r.table.count(cell));
}

// One table: the first dimension down, the second across (or the count alone), with the
// further dimensions fixed at `rest`.
std::string CrossTable(const StatisticsResult& r, std::vector<size_t> coords) {
  const auto& dims = r.table.dims();
  std::string out =
      "<div class=\"scroll\"><table style=\"width:auto\"><tr><th>" + HtmlEscape(dims[0].name);
  size_t columns = dims.size() > 1 ? dims[1].levels.size() + 1 : 1;
  if (dims.size() > 1) out += " \\ " + HtmlEscape(dims[1].name);
  out += "</th>";
  for (size_t c = 0; c < columns; ++c) {
    out += "<th>" + (dims.size() > 1 ? HtmlEscape(LevelName(dims[1], c)) : "count") + "</th>";
  }
  out += "</tr>";
  for (size_t row = 0; row <= dims[0].levels.size(); ++row) {
    coords[0] = row;
    out += "<tr><th>" + HtmlEscape(LevelName(dims[0], row)) + "</th>";
    for (size_t c = 0; c < columns; ++c) {
      if (dims.size() > 1) coords[1] = c;
      out += "<td class=\"n\">" + CountText(r, coords) + "</td>";
    }
    out += "</tr>";
  }
  return out + "</table></div>";
}

// A table per combination of the levels (Total included) of the dimensions after the second.
std::string Tables(const StatisticsResult& r) {
  const auto& dims = r.table.dims();
  std::vector<size_t> coords(dims.size(), 0);
  std::string out;
  while (true) {
    if (dims.size() > 2) {
      std::string title;
      for (size_t d = 2; d < dims.size(); ++d) {
        title += (d > 2 ? ", " : "") + dims[d].name + " " + LevelName(dims[d], coords[d]);
      }
      out += "<h3>" + HtmlEscape(title) + "</h3>";
    }
    out += CrossTable(r, coords);
    size_t d = 2;
    while (d < dims.size() && ++coords[d] > dims[d].levels.size()) coords[d++] = 0;
    if (d >= dims.size()) break;
  }
  return out;
}

std::string Option(std::string_view value, std::string_view label, bool selected) {
  return "<option value=\"" + HtmlEscape(value) + "\"" + (selected ? " selected" : "") + ">" +
         HtmlEscape(label) + "</option>";
}

std::string Input(std::string_view label, std::string_view name, std::string_view type,
                  std::string_view value, std::string_view extra = "") {
  return "<label>" + HtmlEscape(label) + " <input type=\"" + std::string(type) + "\" name=\"" +
         std::string(name) + "\" value=\"" + HtmlEscape(value) + "\"" + std::string(extra) +
         "></label> ";
}

std::string Form(const StatisticsForm& form, uint64_t default_k, const PageContext& ctx) {
  std::string shown = form.report.empty() ? "participants" : form.report;
  std::string out =
      "<form method=\"get\" action=\"/statistics\"><p><label>Report <select "
      "name=\"report\">";
  for (std::string_view name : report::ReportNames()) out += Option(name, name, name == shown);
  out += "</select></label> ";
  std::vector<std::string_view> dims = report::DimensionsOf(shown);
  for (size_t i = 0; i < 3; ++i) {
    std::string chosen = i < form.by.size() ? form.by[i] : "";
    out += "<label>By <select name=\"by\">" + Option("", "—", chosen.empty());
    for (std::string_view dim : dims) out += Option(dim, dim, dim == chosen);
    out += "</select></label> ";
  }
  out += "</p><p>" + Input("From", "from", "date", form.from) + Input("To", "to", "date", form.to) +
         Input("Site", "site", "text", form.site, " size=\"6\"") +
         Input("k", "k", "number", form.k,
               std::string(MayChange(ctx.role) ? " min=\"1\"" : " min=\"3\"") +
                   " style=\"width:5em\" placeholder=\"" + std::to_string(default_k) + "\"") +
         "<button type=\"submit\">Show</button></p>";
  out +=
      "<p class=\"muted\">Counts from 1 to k-1, and others that would reveal them, show as "
      "c. Change the report, then Show, to list its dimensions." +
      std::string(MayChange(ctx.role) ? " k = 1 (admins only): no disclosure control, not "
                                        "for publication."
                                      : "") +
      "</p></form>";
  return out;
}

}  // namespace

Status StatisticsRequestOf(const StatisticsForm& form, Role role, uint64_t default_k,
                           report::ReportRequest* request, uint64_t* k) {
  *request = {form.report, {}, form.from, form.to, form.site};
  for (const std::string& dim : form.by) {
    if (!dim.empty()) request->by.push_back(dim);
  }
  *k = default_k;
  if (form.k.empty()) return {};
  uint64_t asked = 0;
  auto [end, error] = std::from_chars(form.k.data(), form.k.data() + form.k.size(), asked);
  if (error != std::errc() || end != form.k.data() + form.k.size() ||
      (asked != 1 && (asked < report::kMinThreshold || asked > 1000))) {
    return {ErrorCode::kBadInput, "k must be from 3 to 1000, or 1 for a working table", "k"};
  }
  if (asked == 1 && !MayChange(role)) {
    return {ErrorCode::kForbidden, "only admins may see counts without disclosure control (k = 1)",
            "k"};
  }
  *k = asked;
  return {};
}

std::string StatisticsQuery(const StatisticsForm& form) {
  std::string query = "report=" + UrlEncode(form.report);
  for (const std::string& dim : form.by) {
    if (!dim.empty()) query += "&by=" + UrlEncode(dim);
  }
  for (const auto& [name, value] :
       {std::pair{"from", &form.from}, {"to", &form.to}, {"site", &form.site}, {"k", &form.k}}) {
    if (!value->empty()) query += std::string("&") + name + "=" + UrlEncode(*value);
  }
  return query;
}

std::string ReportChartSvg(const report::CountTable& table, const report::Suppression& s) {
  const auto& dims = table.dims();
  if (dims.empty()) return {};
  std::vector<size_t> coords(dims.size());
  for (size_t d = 0; d < dims.size(); ++d) coords[d] = dims[d].levels.size();  // all Total
  size_t groups = dims[0].levels.size();
  size_t bars = dims.size() > 1 ? dims[1].levels.size() : 1;
  auto cell_at = [&](size_t group, size_t bar) {
    coords[0] = group;
    if (dims.size() > 1) coords[1] = bar;
    return table.CellOf(coords);
  };
  uint64_t peak = 1;
  for (size_t g = 0; g < groups; ++g) {
    for (size_t b = 0; b < bars; ++b) {
      size_t cell = cell_at(g, b);
      if (!s.hidden[cell]) peak = std::max(peak, table.count(cell));
    }
  }
  constexpr int kBar = 14, kGap = 12, kHeight = 160, kLabel = 70, kTop = 14;
  const size_t group_width = bars * kBar + kGap;
  const size_t width = std::max<size_t>(groups * group_width + kGap, 200);
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"report\" viewBox=\"0 0 " +
                    std::to_string(width) + " " + std::to_string(kTop + kHeight + kLabel) +
                    "\" style=\"width:" + std::to_string(width) + "px\" role=\"img\"><title>" +
                    HtmlEscape(dims[0].name) +
                    (dims.size() > 1 ? " by " + HtmlEscape(dims[1].name) : "") + "</title>";
  out += "<line x1=\"0\" y1=\"" + std::to_string(kTop + kHeight) + "\" x2=\"" +
         std::to_string(width) + "\" y2=\"" + std::to_string(kTop + kHeight) +
         "\" stroke=\"#8a96a3\"/>";
  for (size_t g = 0; g < groups; ++g) {
    size_t x0 = kGap + g * group_width;
    for (size_t b = 0; b < bars; ++b) {
      size_t cell = cell_at(g, b);
      size_t x = x0 + b * kBar;
      std::string label = dims[0].levels[g] + (dims.size() > 1 ? ", " + dims[1].levels[b] : "");
      const char* colour = kPalette[b % std::size(kPalette)];
      if (s.hidden[cell]) {
        out += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(kTop + kHeight - 12) +
               "\" width=\"" + std::to_string(kBar - 2) +
               "\" height=\"12\" fill=\"none\" stroke=\"" + colour + "\"><title>" +
               HtmlEscape(label) + ": c</title></rect><text x=\"" + std::to_string(x + 3) +
               "\" y=\"" + std::to_string(kTop + kHeight - 14) + "\" font-size=\"10\">c</text>";
        continue;
      }
      uint64_t count = table.count(cell);
      uint64_t height = count == 0 ? 0 : std::max<uint64_t>(1, count * kHeight / peak);
      out += "<rect x=\"" + std::to_string(x) + "\" y=\"" +
             std::to_string(kTop + kHeight - height) + "\" width=\"" + std::to_string(kBar - 2) +
             "\" height=\"" + std::to_string(height) + "\" fill=\"" + colour + "\"><title>" +
             HtmlEscape(label) + ": " + std::to_string(count) + "</title></rect>";
      if (bars <= 4) {  // room for the count above the bar
        out += "<text x=\"" + std::to_string(x) + "\" y=\"" +
               std::to_string(kTop + kHeight - height - 2) + "\" font-size=\"9\">" +
               std::to_string(count) + "</text>";
      }
    }
    out += "<text x=\"" + std::to_string(x0) + "\" y=\"" + std::to_string(kTop + kHeight + 12) +
           "\" font-size=\"10\" transform=\"rotate(30 " + std::to_string(x0) + " " +
           std::to_string(kTop + kHeight + 12) + ")\">" + HtmlEscape(dims[0].levels[g]) + "</text>";
  }
  out += "</svg>";
  if (dims.size() > 1) {
    out += "<p class=\"muted\">";
    for (size_t b = 0; b < bars; ++b) {
      out += std::string("<span style=\"color:") + kPalette[b % std::size(kPalette)] +
             "\">■</span> " + HtmlEscape(dims[1].levels[b]) + " ";
    }
    out += "</p>";
  }
  return out;
}

std::string StatisticsFileName(const report::ReportRequest& request) {
  std::string name = request.name;
  if (!request.by.empty()) name += "-by";
  for (const std::string& dim : request.by) name += "-" + dim;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  }
  return name + ".csv";
}

std::string StatisticsPageHtml(const StatisticsForm& form, const StatisticsResult* result,
                               uint64_t default_k, const PageContext& ctx) {
  std::string body = Form(form, default_k, ctx);
  if (result != nullptr) {
    const report::Suppression& s = result->suppression;
    body += "<h2>" + HtmlEscape(result->request.name);
    if (!result->request.by.empty()) {
      body += " by ";
      for (size_t i = 0; i < result->request.by.size(); ++i)
        body += (i ? ", " : "") + HtmlEscape(result->request.by[i]);
    }
    body += "</h2>";
    if (result->k <= 1) {
      body += "<p class=\"error\">NOT FOR PUBLICATION: no disclosure control (k = 1)</p>";
    } else {
      body += "<p>k = " + std::to_string(result->k) + ": " + std::to_string(s.primary) +
              " counts from 1 to " + std::to_string(result->k - 1) + " and " +
              std::to_string(s.secondary) + " more that would reveal them are shown as c.</p>";
    }
    body += "<p><a href=\"/statistics.csv?" + HtmlEscape(StatisticsQuery(form)) +
            "\" download>Download CSV</a></p>";
    if (!result->table.dims().empty()) {
      body += "<div class=\"scroll\">" + ReportChartSvg(result->table, s) + "</div>";
      body += Tables(*result);
    } else {
      body += "<p>Total: " + CountText(*result, {}) + "</p>";
    }
  }
  return PageHtml("Statistics", ctx, body);
}

}  // namespace osrc::hub

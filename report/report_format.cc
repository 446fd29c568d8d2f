#include "report/report_format.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "config/record_csv.h"

namespace osrc::report {
namespace {

constexpr std::string_view kSuppressed = "c";
constexpr std::string_view kNotForPublication =
    "NOT FOR PUBLICATION: no disclosure control (--k 1)";

// Each cell as its dimension values and its count text.
std::vector<std::vector<std::string>> Rows(const CountTable& table, const Suppression& s) {
  std::vector<std::vector<std::string>> rows;
  for (size_t cell = 0; cell < table.size(); ++cell) {
    std::vector<std::string> row;
    std::vector<size_t> coords = table.CoordsOf(cell);
    for (size_t d = 0; d < coords.size(); ++d) {
      const Dimension& dim = table.dims()[d];
      row.push_back(coords[d] == dim.levels.size() ? std::string(kTotal) : dim.levels[coords[d]]);
    }
    row.push_back(s.hidden[cell] ? std::string(kSuppressed) : std::to_string(table.count(cell)));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string Summary(const ReportRequest& request, const Suppression& s, uint64_t k) {
  std::string text = "report " + request.name;
  if (!request.by.empty()) {
    text += " by ";
    for (size_t i = 0; i < request.by.size(); ++i) text += (i ? "," : "") + request.by[i];
  }
  if (!request.site.empty()) text += ", site " + request.site;
  if (!request.from.empty()) text += ", from " + request.from;
  if (!request.to.empty()) text += ", to " + request.to;
  if (k <= 1) return text + "\n" + std::string(kNotForPublication);
  return text + "\nk = " + std::to_string(k) + ": " + std::to_string(s.primary) +
         " counts from 1 to " + std::to_string(k - 1) + " and " + std::to_string(s.secondary) +
         " more that would reveal them are shown as c";
}

}  // namespace

Status ParseFormat(std::string_view text, Format* out) {
  if (text == "table") {
    *out = Format::kTable;
  } else if (text == "csv") {
    *out = Format::kCsv;
  } else if (text == "json") {
    *out = Format::kJson;
  } else {
    return {ErrorCode::kBadInput, "must be table, csv or json", "--format " + std::string(text)};
  }
  return {};
}

std::string FormatReport(const ReportRequest& request, const CountTable& table,
                         const Suppression& suppression, uint64_t k, Format format) {
  std::vector<std::string> header;
  for (const Dimension& dim : table.dims()) header.push_back(dim.name);
  header.push_back("count");
  std::vector<std::vector<std::string>> rows = Rows(table, suppression);
  std::string out;
  if (format == Format::kJson) {
    nlohmann::ordered_json json;
    json["report"] = request.name;
    json["by"] = request.by;
    json["k"] = k;
    json["for_publication"] = k > 1;
    json["rows"] = nlohmann::ordered_json::array();
    for (const auto& row : rows) {
      nlohmann::ordered_json entry;
      for (size_t i = 0; i + 1 < row.size(); ++i) entry[header[i]] = row[i];
      if (row.back() == kSuppressed) {
        entry["count"] = kSuppressed;
      } else {
        entry["count"] = std::stoull(row.back());
      }
      json["rows"].push_back(std::move(entry));
    }
    return json.dump(1) + "\n";
  }
  if (format == Format::kCsv) {
    if (k <= 1) out += "# " + std::string(kNotForPublication) + "\n";
    for (size_t i = 0; i < header.size(); ++i) {
      if (i > 0) out += ',';
      config::AppendCsvCell(&out, header[i]);
    }
    out += "\n";
    for (const auto& row : rows) {
      for (size_t i = 0; i < row.size(); ++i) {
        if (i > 0) out += ',';
        config::AppendCsvCell(&out, row[i]);
      }
      out += "\n";
    }
    return out;
  }
  std::vector<size_t> widths(header.size());
  for (size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t i = 0; i < cells.size(); ++i) {
      bool number = i + 1 == cells.size();
      std::string pad(widths[i] - cells[i].size(), ' ');
      text += (i ? "  " : "") + (number ? pad + cells[i] : cells[i] + pad);
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text + "\n";
  };
  out += Summary(request, suppression, k) + "\n\n" + line(header);
  for (const auto& row : rows) out += line(row);
  return out;
}

}  // namespace osrc::report

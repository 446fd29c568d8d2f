#include "config/record_csv.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace osrc::config {
namespace {

bool NeedsQuotes(std::string_view text) {
  return text.find_first_of(",\"\r\n") != std::string_view::npos;
}

}  // namespace

bool CsvParser::Next(CsvRow* row, CsvError* error) {
  *error = {};
  row->cells.clear();
  row->cell_lines.clear();
  row->first_line = line_;
  if (pos_ >= text_.size()) return false;
  auto fail = [&](size_t line, std::string what) {
    if (error->status.ok()) {
      *error = {line, row->cells.size(), Status(ErrorCode::kBadInput, std::move(what))};
    }
  };
  while (true) {
    std::string& cell = row->cells.emplace_back();
    row->cell_lines.push_back(line_);
    if (pos_ < text_.size() && text_[pos_] == '"') {
      size_t opened_line = line_;
      ++pos_;
      while (true) {
        size_t quote = text_.find('"', pos_);
        size_t end = quote == std::string_view::npos ? text_.size() : quote;
        std::string_view part = text_.substr(pos_, end - pos_);
        line_ += std::count(part.begin(), part.end(), '\n');
        cell.append(part);
        pos_ = end;
        if (quote == std::string_view::npos) {
          fail(opened_line, "quote opened here is never closed");
          break;
        }
        ++pos_;
        if (pos_ < text_.size() && text_[pos_] == '"') {
          cell += '"';
          ++pos_;
          continue;
        }
        break;
      }
      // After the closing quote: a comma, the end of the row or the end of the text.
      size_t stop = text_.find_first_of(",\n", pos_);
      if (stop == std::string_view::npos) stop = text_.size();
      std::string_view rest = text_.substr(pos_, stop - pos_);
      if (!rest.empty() && rest != "\r") {
        fail(line_, "text after the closing quote of a quoted cell");
        cell.append(rest);
      }
      pos_ = stop;
    } else {
      size_t stop = text_.find_first_of(",\n", pos_);
      if (stop == std::string_view::npos) stop = text_.size();
      std::string_view text = text_.substr(pos_, stop - pos_);
      if (stop < text_.size() && text_[stop] == '\n' && !text.empty() && text.back() == '\r') {
        text.remove_suffix(1);
      }
      cell.append(text);
      pos_ = stop;
    }
    if (pos_ < text_.size() && text_[pos_] == ',') {
      ++pos_;
      continue;
    }
    row->last_line = line_;
    if (pos_ < text_.size()) {  // '\n' ends the row
      ++pos_;
      ++line_;
    }
    return true;
  }
}

size_t CountCsvRows(std::string_view text) {
  size_t rows = 0;
  bool quoted = false;
  bool blank = true;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (c == '\n' && !quoted) {
      if (!blank) ++rows;
      blank = true;
    } else if (c != '\r') {
      blank = false;
    }
  }
  return rows + (blank ? 0 : 1);
}

std::vector<CsvError> ParseCsvHeader(const CollectionSpec& spec, const CsvRow& row,
                                     CsvHeader* out) {
  std::vector<CsvError> errors;
  *out = {};
  bool has_id = false;
  for (size_t i = 0; i < row.cells.size(); ++i) {
    const std::string& name = row.cells[i];
    auto error = [&](std::string what) {
      errors.push_back({row.cell_lines[i], i + 1, Status(ErrorCode::kBadInput, std::move(what))});
    };
    size_t first = std::find(out->names.begin(), out->names.end(), name) - out->names.begin();
    out->names.push_back(name);
    out->fields.push_back(nullptr);
    if (name.empty()) {
      error("empty column name");
    } else if (first < i) {
      error("column " + QuotedForMessage(name) + " repeated (first in column " +
            std::to_string(first + 1) + ")");
    } else if (name == "id") {
      has_id = true;
      out->id_column = i;
    } else if (const FieldSpec* field = spec.Find(name); field != nullptr) {
      out->fields.back() = field;
    } else {
      error("unknown column " + QuotedForMessage(name) + ": not a field of " + spec.name);
    }
  }
  if (!has_id) {
    errors.push_back(
        {row.first_line, 0, Status(ErrorCode::kBadInput, "the header has no \"id\" column")});
  }
  return errors;
}

Status CsvCellValue(const FieldSpec& field, std::string_view text, protocol::Value* out) {
  std::string where = "field " + QuotedForMessage(field.name);
  if (text.empty()) {
    *out = std::monostate{};
    return {};
  }
  const char* end = text.data() + text.size();
  switch (field.type) {
    case FieldType::kInt: {
      int64_t value = 0;
      auto [ptr, ec] = std::from_chars(text.data(), end, value);
      if (ec == std::errc::result_out_of_range) {
        return {ErrorCode::kBadInput, "integer out of range", where};
      }
      if (ec != std::errc() || ptr != end) {
        return {ErrorCode::kBadInput, "expected an integer, not " + QuotedForMessage(text), where};
      }
      *out = value;
      return {};
    }
    case FieldType::kFloat: {
      double value = 0;
      auto [ptr, ec] = std::from_chars(text.data(), end, value);
      if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
        return {ErrorCode::kBadInput, "expected a number, not " + QuotedForMessage(text), where};
      }
      *out = value;
      return {};
    }
    case FieldType::kBool:
      if (text == "true" || text == "false") {
        *out = text == "true";
        return {};
      }
      return {ErrorCode::kBadInput, "expected true or false, not " + QuotedForMessage(text), where};
    default:
      *out = std::string(text);
      return {};
  }
}

void ParseCsvRow(const CollectionSpec& spec, const CsvHeader& header, const CsvRow& row,
                 std::string_view site, const WriteChecks& checks, JsonRecord* out,
                 std::vector<CsvError>* errors) {
  out->collection = spec.name;
  out->id.clear();
  out->fields.clear();
  if (row.cells.size() != header.names.size()) {
    errors->push_back(
        {row.first_line, 0,
         Status(ErrorCode::kBadInput, "row has " + std::to_string(row.cells.size()) +
                                          " cells; the header has " +
                                          std::to_string(header.names.size()) + " columns")});
    return;
  }
  out->id = row.cells[header.id_column];
  if (Status status = Schema::CheckId(spec, out->id, site); !status.ok()) {
    errors->push_back({row.cell_lines[header.id_column], header.id_column + 1, status});
  }
  std::string record = protocol::RecordName(spec.name, out->id);
  for (size_t i = 0; i < row.cells.size(); ++i) {
    if (header.fields[i] == nullptr || row.cells[i].empty()) continue;
    protocol::Field field;
    field.name = header.names[i];
    Status status = CsvCellValue(*header.fields[i], row.cells[i], &field.value);
    if (status.ok()) status = Schema::CheckField(spec, out->id, field, checks);
    if (!status.ok()) {
      errors->push_back({row.cell_lines[i], i + 1, status.WithContext(record)});
      continue;
    }
    out->fields.push_back(std::move(field));
  }
  std::sort(out->fields.begin(), out->fields.end(),
            [](const protocol::Field& a, const protocol::Field& b) { return a.name < b.name; });
}

void AppendCsvCell(std::string* out, std::string_view text) {
  if (!NeedsQuotes(text)) {
    out->append(text);
    return;
  }
  *out += '"';
  for (char c : text) {
    if (c == '"') *out += '"';
    *out += c;
  }
  *out += '"';
}

std::string CsvHeaderLine(const CollectionSpec& spec) {
  std::string out = "id";
  for (const std::string& name : spec.field_order) {
    out += ',';
    AppendCsvCell(&out, name);
  }
  return out + "\r\n";
}

std::string CsvRecordLine(const CollectionSpec& spec, std::string_view id,
                          const std::vector<FieldValue>& fields) {
  std::string out;
  AppendCsvCell(&out, id);
  for (const std::string& name : spec.field_order) {
    out += ',';
    auto it =
        std::lower_bound(fields.begin(), fields.end(), name,
                         [](const FieldValue& f, const std::string& n) { return f.name < n; });
    if (it == fields.end() || it->name != name) continue;
    const protocol::Value& value = *it->value;
    if (protocol::IsNull(value)) continue;
    if (const auto* text = std::get_if<std::string>(&value)) {
      AppendCsvCell(&out, *text);
    } else {
      out += ValueJson(value);
    }
  }
  return out + "\r\n";
}

}  // namespace osrc::config

#include "replica/record_source.h"

#include <algorithm>

#include "config/record_csv.h"

namespace osrc::replica {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Lines holding invalid UTF-8, one error each (the first bad byte of the line).
std::set<size_t> CheckUtf8(std::string_view text, std::vector<ImportError>* errors) {
  std::set<size_t> bad_lines;
  size_t line = 1;
  size_t counted_to = 0;
  for (size_t offset = FindInvalidUtf8(text); offset != std::string_view::npos;) {
    line += std::count(text.begin() + counted_to, text.begin() + offset, '\n');
    counted_to = offset;
    bad_lines.insert(line);
    errors->push_back({line, 0, "",
                       Status(ErrorCode::kBadInput, "invalid UTF-8 at byte offset " +
                                                        std::to_string(offset) + " of the file")});
    size_t next_line = text.find('\n', offset);
    if (next_line == std::string_view::npos) break;
    offset = FindInvalidUtf8(text, next_line + 1);
  }
  return bad_lines;
}

class JsonLinesSource final : public RecordSource {
 public:
  JsonLinesSource(const config::Schema& schema, std::string_view text, const SourceOptions& options,
                  std::set<size_t> bad_lines)
      : schema_(schema), text_(text), options_(options), bad_lines_(std::move(bad_lines)) {
    for (size_t pos = 0; pos < text.size();) {
      size_t end = std::min(text.find('\n', pos), text.size());
      if (end > pos && text.substr(pos, end - pos) != "\r") ++total_;
      pos = end + 1;
    }
  }

  bool Next(const config::WriteChecks& checks, SourceItem* out) override {
    while (pos_ < text_.size()) {
      size_t end = std::min(text_.find('\n', pos_), text_.size());
      std::string_view line = text_.substr(pos_, end - pos_);
      pos_ = end + 1;
      ++line_;
      if (line.empty() || line == "\r" || bad_lines_.count(line_) > 0) continue;
      out->line = line_;
      out->errors.clear();
      Status status = config::ParseRecordLine(schema_, line, options_.site, checks, &out->record);
      if (status.ok() && !options_.collection.empty() &&
          out->record.collection != options_.collection) {
        status = {ErrorCode::kBadInput, "collection \"" + out->record.collection + "\" is not \"" +
                                            std::string(options_.collection) + "\""};
      }
      if (!status.ok()) out->errors.push_back({line_, 0, "", status});
      return true;
    }
    return false;
  }

  void PlaceError(ImportError*) const override {}
  size_t total() const override { return total_; }

 private:
  const config::Schema& schema_;
  std::string_view text_;
  SourceOptions options_;
  std::set<size_t> bad_lines_;
  size_t pos_ = 0;
  size_t line_ = 0;
  size_t total_ = 0;
};

class CsvSource final : public RecordSource {
 public:
  CsvSource(const config::CollectionSpec& spec, std::string_view text, const SourceOptions& options,
            std::set<size_t> bad_lines)
      : spec_(spec), parser_(text), options_(options), bad_lines_(std::move(bad_lines)) {
    size_t rows = config::CountCsvRows(text);
    total_ = rows > 0 ? rows - 1 : 0;
  }

  // Reads the header; false when no record can be read (no header, or no id column).
  bool ReadHeader(std::vector<ImportError>* errors) {
    config::CsvRow row;
    config::CsvError error;
    if (!parser_.Next(&row, &error)) return true;  // an empty file: no records
    if (!error.status.ok()) {
      errors->push_back(ToImportError(error));
      return false;
    }
    bool has_id = true;
    for (const config::CsvError& bad : config::ParseCsvHeader(spec_, row, &header_)) {
      errors->push_back(ToImportError(bad));
      has_id = has_id && bad.column != 0;
    }
    return has_id;
  }

  bool Next(const config::WriteChecks& checks, SourceItem* out) override {
    config::CsvRow row;
    config::CsvError error;
    while (parser_.Next(&row, &error)) {
      bool blank = std::all_of(row.cells.begin(), row.cells.end(),
                               [](const std::string& cell) { return cell.empty(); });
      if (blank && error.status.ok()) continue;
      auto bad = bad_lines_.lower_bound(row.first_line);
      if (bad != bad_lines_.end() && *bad <= row.last_line) continue;
      out->line = row.first_line;
      out->errors.clear();
      if (!error.status.ok()) {
        out->errors.push_back(ToImportError(error));
        return true;
      }
      std::vector<config::CsvError> errors;
      config::ParseCsvRow(spec_, header_, row, options_.site, checks, &out->record, &errors);
      for (const config::CsvError& e : errors) out->errors.push_back(ToImportError(e));
      return true;
    }
    return false;
  }

  void PlaceError(ImportError* error) const override {
    if (error->column != 0) return;
    std::string field = FieldOf(error->status);
    auto it = std::find(header_.names.begin(), header_.names.end(), field);
    if (field.empty() || it == header_.names.end()) return;
    error->column = it - header_.names.begin() + 1;
    error->column_name = field;
  }

  size_t total() const override { return total_; }

 private:
  ImportError ToImportError(const config::CsvError& error) const {
    std::string name;
    if (error.column > 0 && error.column <= header_.names.size()) {
      name = header_.names[error.column - 1];
    }
    return {error.line, error.column, std::move(name), error.status};
  }

  const config::CollectionSpec& spec_;
  config::CsvParser parser_;
  SourceOptions options_;
  std::set<size_t> bad_lines_;
  config::CsvHeader header_;
  size_t total_ = 0;
};

}  // namespace

Status FormatOf(std::string_view flag, std::string_view file, RecordFormat* out) {
  if (flag == "csv" || (flag.empty() && file.ends_with(".csv"))) {
    *out = RecordFormat::kCsv;
  } else if (flag.empty() || flag == "jsonl") {
    *out = RecordFormat::kJsonLines;
  } else {
    return {ErrorCode::kBadInput, "unknown format \"" + std::string(flag) + "\" (csv or jsonl)",
            "--format"};
  }
  return {};
}

Status ImportError::ToStatus() const {
  if (line == 0) return status;
  std::string where = "line " + std::to_string(line);
  if (column > 0) {
    where += ", column " + std::to_string(column);
    if (!column_name.empty()) where += " (" + column_name + ")";
  }
  return status.WithContext(where);
}

void OpenRecordSource(const config::Schema& schema, std::string_view text,
                      const SourceOptions& options, std::unique_ptr<RecordSource>* out,
                      std::vector<ImportError>* errors) {
  out->reset();
  std::set<size_t> bad_lines = CheckUtf8(text, errors);
  if (text.starts_with(kBom)) text.remove_prefix(kBom.size());
  if (options.format == RecordFormat::kJsonLines) {
    *out = std::make_unique<JsonLinesSource>(schema, text, options, std::move(bad_lines));
    return;
  }
  if (options.collection.empty()) {
    errors->push_back({0, 0, "",
                       Status(ErrorCode::kBadInput,
                              "a CSV file holds one collection: name it with --collection")});
    return;
  }
  const config::CollectionSpec* spec = nullptr;
  if (Status status = schema.CheckCollection(options.collection, options.site, &spec);
      !status.ok()) {
    errors->push_back({0, 0, "", status.WithContext("--collection")});
    return;
  }
  auto csv = std::make_unique<CsvSource>(*spec, text, options, std::move(bad_lines));
  if (csv->ReadHeader(errors)) *out = std::move(csv);
}

size_t FindInvalidUtf8(std::string_view text, size_t from) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  size_t size = text.size();
  for (size_t i = from; i < size;) {
    unsigned char c = bytes[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    uint32_t min;
    uint32_t code;
    if ((c & 0xE0) == 0xC0) {
      length = 2, min = 0x80, code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3, min = 0x800, code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4, min = 0x10000, code = c & 0x07;
    } else {
      return i;
    }
    if (i + length > size) return i;
    for (size_t k = 1; k < length; ++k) {
      if ((bytes[i + k] & 0xC0) != 0x80) return i;
      code = code << 6 | (bytes[i + k] & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (code < min || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) return i;
    i += length;
  }
  return std::string_view::npos;
}

std::string FieldOf(const Status& status) {
  const std::string& where = status.where();
  size_t at = where.rfind("field \"");
  if (at == std::string::npos) return {};
  size_t begin = at + 7;
  size_t end = where.find('"', begin);
  return end == std::string::npos ? std::string() : where.substr(begin, end - begin);
}

}  // namespace osrc::replica

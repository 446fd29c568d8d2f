// Records read from an import file, JSON Lines or CSV, one at a time for the import loop
// (records.h), each with the line it came from or the errors that kept it from being read
// (line, CSV column and its header name, record and field). The raw bytes are checked as UTF-8
// before anything is parsed. Thread-compatible.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/record_json.h"
#include "config/schema.h"

namespace osrc::replica {

enum class RecordFormat { kJsonLines, kCsv };

// The format of `file`: `flag` ("csv" or "jsonl"), else CSV for a ".csv" name, else JSON Lines.
Status FormatOf(std::string_view flag, std::string_view file, RecordFormat* out);

// One bad line, cell or file: where and what.
struct ImportError {
  size_t line = 0;          // 0: the file as a whole
  size_t column = 0;        // CSV: 1-based column of the bad cell, 0 for the whole row
  std::string column_name;  // CSV: the column's header name
  Status status;            // what, and the record and field where known

  // The status with its place in the file: "line 3, column 4 (sex): participants/MAS-P1: field
  // "sex": ..." as a string.
  Status ToStatus() const;
  std::string ToString() const { return ToStatus().ToString(); }
};

// A record read, or the errors that kept it from being read.
struct SourceItem {
  size_t line = 0;
  config::JsonRecord record;
  std::vector<ImportError> errors;
};

class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // The next record (checked as far as parsing goes: collection, id, field types, and references
  // and bounds as `checks` asks); false at the end.
  virtual bool Next(const config::WriteChecks& checks, SourceItem* out) = 0;
  // Sets `error`'s column and column name from the field it names (CSV), so a check made after
  // parsing (a required field) points at its column too.
  virtual void PlaceError(ImportError* error) const = 0;
  // How many records the file holds, for progress (CSV: rows after the header).
  virtual size_t total() const = 0;
};

struct SourceOptions {
  RecordFormat format = RecordFormat::kJsonLines;
  // CSV: the collection of the file (required). JSON Lines: when set, every line's collection.
  std::string_view collection;
  std::string_view site;  // the writer's site, empty at the hub
};

// Opens `text` (the whole file, a UTF-8 BOM allowed). Errors of the file as a whole (invalid
// UTF-8, a bad CSV header, no --collection for CSV) go to `errors`; the source still reads what
// it can, unless the header is unusable (then `*out` is null). REQUIRES: `text` and `schema`
// outlive the source.
void OpenRecordSource(const config::Schema& schema, std::string_view text,
                      const SourceOptions& options, std::unique_ptr<RecordSource>* out,
                      std::vector<ImportError>* errors);

// The byte offset of the first invalid UTF-8 sequence in `text` at or after `from`, or npos.
size_t FindInvalidUtf8(std::string_view text, size_t from = 0);

// The field a Status names in its context (`field "sex"`), or empty.
std::string FieldOf(const Status& status);

}  // namespace osrc::replica

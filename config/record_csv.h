// CSV form of records (RFC 4180): one collection per file, a header row naming `id` and fields,
// one record per row. Reads rows with quoted fields, `""` escapes, commas and line breaks inside
// quotes, CRLF or LF; types cells by the schema as JSON import does; writes the same form back.
// Thread-compatible.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "config/record_json.h"
#include "config/schema.h"

namespace osrc::config {

// One row: its cells and the line each cell starts on (1-based, counted over the whole text).
struct CsvRow {
  std::vector<std::string> cells;
  std::vector<size_t> cell_lines;
  size_t first_line = 0;
  size_t last_line = 0;
};

// One bad cell or row: 1-based column (0 when it concerns the whole row) and the error.
struct CsvError {
  size_t line = 0;
  size_t column = 0;
  Status status;
};

// Splits CSV text (without a BOM) into rows. Views `text`: it outlives the parser.
class CsvParser {
 public:
  explicit CsvParser(std::string_view text) : text_(text) {}

  // The next row into `row`; false at the end. A malformed row (a quote left open, text after a
  // closing quote) sets `error` (its status not ok) and still consumes the row.
  bool Next(CsvRow* row, CsvError* error);
  // Bytes consumed so far.
  size_t offset() const { return pos_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 1;
};

// Rows of a CSV text that are not blank: the progress total. Counts line breaks outside quotes.
size_t CountCsvRows(std::string_view text);

// What each column of a header holds: column 0-based → field (nullptr for `id` and for a column
// in error).
struct CsvHeader {
  std::vector<std::string> names;
  std::vector<const FieldSpec*> fields;
  size_t id_column = 0;
};

// The header row of `spec`'s file. Every unknown, repeated or empty column name is an error; so is
// a header without `id`.
std::vector<CsvError> ParseCsvHeader(const CollectionSpec& spec, const CsvRow& row, CsvHeader* out);
// A record from one row: cells typed and checked (id for `site`, fields as `checks` asks) as JSON
// import checks them; an empty cell leaves its field out. Appends one error per bad cell.
void ParseCsvRow(const CollectionSpec& spec, const CsvHeader& header, const CsvRow& row,
                 std::string_view site, const WriteChecks& checks, JsonRecord* out,
                 std::vector<CsvError>* errors);
// A cell's text as a value of `field`'s type (empty: null).
Status CsvCellValue(const FieldSpec& field, std::string_view text, protocol::Value* out);

// Appends `text` as one CSV cell, in quotes only when it holds a comma, a quote or a line break.
void AppendCsvCell(std::string* out, std::string_view text);

// The header line of `spec`: `id`, then its fields in schema order; CRLF-terminated.
std::string CsvHeaderLine(const CollectionSpec& spec);
// One row in header order: `fields` sorted by name, null ones left empty. CRLF-terminated;
// a cell is quoted only when it holds a comma, a quote or a line break.
std::string CsvRecordLine(const CollectionSpec& spec, std::string_view id,
                          const std::vector<FieldValue>& fields);

}  // namespace osrc::config

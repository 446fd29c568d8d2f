// Tests of the CSV form of records (config/record_csv.h): RFC 4180 rows, header checks, cells
// typed by the schema, and rows written back that read back unchanged.
#include "config/record_csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/schema_loader.h"

namespace osrc::config {
namespace {

// Every row of `text`, cells joined by '|', or "ERROR line L col C: what" for a bad row.
std::vector<std::string> Rows(std::string_view text) {
  std::vector<std::string> rows;
  CsvParser parser(text);
  CsvRow row;
  CsvError error;
  while (parser.Next(&row, &error)) {
    if (!error.status.ok()) {
      rows.push_back("ERROR line " + std::to_string(error.line) + " col " +
                     std::to_string(error.column) + ": " + error.status.what());
      continue;
    }
    std::string joined;
    for (size_t i = 0; i < row.cells.size(); ++i) {
      joined += (i ? "|" : "") + row.cells[i];
    }
    rows.push_back(joined + " @" + std::to_string(row.first_line));
  }
  return rows;
}

const CollectionSpec& Participants() { return *DefaultSchema().Find("participants"); }

FieldSpec Spec(std::string name, FieldType type) {
  FieldSpec field;
  field.name = std::move(name);
  field.type = type;
  return field;
}

TEST(CsvParserTest, ReadsQuotedCellsEscapesAndLineBreaksWithCrlfOrLf) {
  EXPECT_EQ(Rows("a,b\r\n1,2\n"), (std::vector<std::string>{"a|b @1", "1|2 @2"}));
  EXPECT_EQ(Rows("a,\"b,c\"\n\"say \"\"hi\"\"\",\"two\nlines\"\nlast,row"),
            (std::vector<std::string>{"a|b,c @1", "say \"hi\"|two\nlines @2", "last|row @4"}));
  // A CRLF inside quotes is kept; an empty cell at the end of a row is a cell.
  EXPECT_EQ(Rows("\"x\r\ny\",\n"), (std::vector<std::string>{"x\r\ny| @1"}));
  EXPECT_EQ(Rows(""), (std::vector<std::string>{}));
}

TEST(CsvParserTest, NamesAQuoteLeftOpenAndTextAfterAClosingQuote) {
  EXPECT_EQ(Rows("a,\"b\"c,d\n1,2,3\n"),
            (std::vector<std::string>{
                "ERROR line 1 col 2: text after the closing quote of a quoted cell", "1|2|3 @2"}));
  EXPECT_EQ(Rows("ok\n1,\"open\n2\n"),
            (std::vector<std::string>{"ok @1",
                                      "ERROR line 2 col 2: quote opened here is never "
                                      "closed"}));
}

TEST(CsvParserTest, CountsRowsOutsideQuotes) {
  EXPECT_EQ(CountCsvRows("h\r\n1\r\n\"a\nb\"\r\n\r\n3"), 4u);
  EXPECT_EQ(CountCsvRows(""), 0u);
}

TEST(CsvHeaderTest, NamesEveryUnknownRepeatedOrMissingColumn) {
  CsvParser parser("site,sex,nickname,sex\n");
  CsvRow row;
  CsvError error;
  ASSERT_TRUE(parser.Next(&row, &error));
  CsvHeader header;
  std::vector<std::string> found;
  for (const CsvError& e : ParseCsvHeader(Participants(), row, &header)) {
    found.push_back(std::to_string(e.column) + ": " + e.status.what());
  }
  EXPECT_EQ(found,
            (std::vector<std::string>{"3: unknown column \"nickname\": not a field of participants",
                                      "4: column \"sex\" repeated (first in column 2)",
                                      "0: the header has no \"id\" column"}));
}

TEST(CsvCellTest, TypesCellsByTheSchemaAsJsonImportDoes) {
  FieldSpec hours = Spec("hours", FieldType::kInt);
  FieldSpec score = Spec("score", FieldType::kFloat);
  FieldSpec consent = Spec("consent", FieldType::kBool);
  FieldSpec date = Spec("date", FieldType::kDate);
  protocol::Value value;
  ASSERT_TRUE(CsvCellValue(hours, "-42", &value).ok());
  EXPECT_EQ(value, protocol::Value(int64_t{-42}));
  ASSERT_TRUE(CsvCellValue(score, "3", &value).ok());
  EXPECT_EQ(value, protocol::Value(3.0));
  ASSERT_TRUE(CsvCellValue(consent, "false", &value).ok());
  EXPECT_EQ(value, protocol::Value(false));
  ASSERT_TRUE(CsvCellValue(date, "2026-02-03", &value).ok());
  EXPECT_EQ(value, protocol::Value(std::string("2026-02-03")));
  ASSERT_TRUE(CsvCellValue(hours, "", &value).ok());
  EXPECT_TRUE(protocol::IsNull(value));
  EXPECT_EQ(CsvCellValue(hours, "4.5", &value).ToString(),
            "field \"hours\": expected an integer, not \"4.5\"");
  EXPECT_EQ(CsvCellValue(hours, "99999999999999999999", &value).ToString(),
            "field \"hours\": integer out of range");
  EXPECT_EQ(CsvCellValue(score, "nan", &value).ToString(),
            "field \"score\": expected a number, not \"nan\"");
  EXPECT_EQ(CsvCellValue(consent, "yes", &value).ToString(),
            "field \"consent\": expected true or false, not \"yes\"");
}

TEST(CsvRowTest, ChecksEachCellAndNamesItsColumn) {
  CsvParser parser(
      "given_name,id,sex,consent,family_name,site\n"
      "Ana,MAS-P1,X,maybe,,MAS\n"
      "Ben,MAS-P2,M,true,Reyes,MAS,extra\n"
      "Cora,ANT-P3,F,true,Santos,MAS\n");
  CsvRow row;
  CsvError error;
  ASSERT_TRUE(parser.Next(&row, &error));
  CsvHeader header;
  ASSERT_TRUE(ParseCsvHeader(Participants(), row, &header).empty());
  EXPECT_EQ(header.id_column, 1u);
  std::vector<std::string> found;
  while (parser.Next(&row, &error)) {
    JsonRecord record;
    std::vector<CsvError> errors;
    ParseCsvRow(Participants(), header, row, "MAS", {}, &record, &errors);
    for (const CsvError& e : errors) {
      found.push_back(std::to_string(e.line) + ":" + std::to_string(e.column) + " " +
                      e.status.ToString());
    }
  }
  EXPECT_EQ(found,
            (std::vector<std::string>{
                "2:3 participants/MAS-P1: field \"sex\": \"X\" is not one of F, M",
                "2:4 participants/MAS-P1: field \"consent\": expected true or false, not \"maybe\"",
                "3:0 row has 7 cells; the header has 6 columns",
                "4:2 id \"ANT-P3\" does not start with the site code \"MAS-\"",
                "4:6 participants/ANT-P3: field \"site\": \"MAS\" is not the site of the id, "
                "\"ANT\""}));
}

TEST(CsvRowTest, WritesSchemaOrderQuotingOnlyWhereNeededAndReadsBackTheSameFields) {
  const CollectionSpec& spec = Participants();
  EXPECT_EQ(CsvHeaderLine(spec),
            "id,site,family_name,given_name,sex,birth_date,civil_status,province,municipality,"
            "phone,occupation,migration_status,destination_country,consent,registered_at\r\n");
  protocol::Value consent = true;
  protocol::Value family = std::string("Dela Cruz, \"Jr.\"");
  protocol::Value given = std::string("Ma. Lourdes");  // text holds no line break (schema rule)
  protocol::Value site = std::string("MAS");
  protocol::Value occupation = std::string(" farmer ");
  std::vector<FieldValue> fields = {{"consent", &consent},
                                    {"family_name", &family},
                                    {"given_name", &given},
                                    {"occupation", &occupation},
                                    {"site", &site}};
  std::string line = CsvRecordLine(spec, "MAS-P1", fields);
  EXPECT_EQ(line, "MAS-P1,MAS,\"Dela Cruz, \"\"Jr.\"\"\",Ma. Lourdes,,,,,,, farmer ,,,true,\r\n");

  std::string text = CsvHeaderLine(spec) + line;
  CsvParser parser(text);
  CsvRow row;
  CsvError error;
  CsvHeader header;
  ASSERT_TRUE(parser.Next(&row, &error));
  ASSERT_TRUE(ParseCsvHeader(spec, row, &header).empty());
  ASSERT_TRUE(parser.Next(&row, &error));
  JsonRecord record;
  std::vector<CsvError> errors;
  ParseCsvRow(spec, header, row, "MAS", {}, &record, &errors);
  ASSERT_TRUE(errors.empty());
  std::vector<FieldValue> read;
  for (const protocol::Field& field : record.fields) read.push_back({field.name, &field.value});
  EXPECT_EQ(RecordLine("participants", record.id, read),
            RecordLine("participants", "MAS-P1", fields));
}

}  // namespace
}  // namespace osrc::config

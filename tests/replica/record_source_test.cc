// Tests of import sources (replica/record_source.h) through the import loop (ImportRecords in
// replica/records.h): every bad line of a JSON Lines or CSV file reported at once with line,
// column, record and field, nothing written, invalid UTF-8 found in the raw bytes, a BOM
// accepted, and an empty file refused unless allowed.
#include "replica/record_source.h"

#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "config/schema_loader.h"
#include "replica/records.h"
#include "storage/store.h"
#include "tests/support/fake_clock.h"
#include "tests/support/scratch_env.h"
#include "tests/support/temp_dir.h"

namespace osrc::replica {
namespace {

using testing::ScratchEnv;

std::string Participant(std::string_view id, std::string_view extra = "") {
  return "{\"collection\":\"participants\",\"id\":\"" + std::string(id) +
         "\",\"fields\":{\"consent\":true,\"family_name\":\"Cruz\",\"given_name\":\"Ana\","
         "\"site\":\"MAS\"" +
         std::string(extra) + "}}\n";
}

const char kCsvHeader[] = "id,site,family_name,given_name,sex,consent\r\n";

class RecordSourceTest : public ::testing::Test {
 protected:
  RecordSourceTest()
      : dir_("osrc-record-source-test"),
        store_(std::make_unique<storage::Store>(dir_.path(), ScratchEnv())),
        writer_{*store_, config::DefaultSchema(), clock_, "MAS", false, {}} {}

  // Imports `text`; returns the Status and each reported error as one line.
  std::string Import(std::string_view text, ImportOptions options = {}) {
    ImportErrors errors;
    Status status = ImportRecords(writer_, text, options, &stats_, &errors);
    std::string out;
    for (const ImportError& error : errors.shown) out += error.ToString() + "\n";
    if (errors.more > 0) out += "and " + std::to_string(errors.more) + " more\n";
    return out + (status.ok() ? "ok" : status.ToString());
  }
  ImportOptions Csv(std::string collection = "participants") {
    return {.format = RecordFormat::kCsv, .collection = std::move(collection)};
  }
  uint64_t Head() {
    storage::ReadTxn txn(store_->env());
    return store_->LogHead(txn);
  }

  testing::FakeClock clock_;
  osrc::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  Writer writer_;
  ImportStats stats_;
};

TEST_F(RecordSourceTest, JsonLinesReportsEveryBadLineAndWritesNothing) {
  std::string text = Participant("MAS-P1") + Participant("MAS-P2", ",\"sex\":\"X\"") +
                     "{not json\n" + Participant("MAS-P3") +
                     "{\"collection\":\"participants\",\"id\":\"MAS-P4\",\"fields\":"
                     "{\"consent\":true,\"given_name\":\"Ana\",\"site\":\"MAS\"}}\n";
  EXPECT_EQ(Import(text),
            "line 2: participants/MAS-P2: field \"sex\": \"X\" is not one of F, M\n"
            "line 3: malformed JSON\n"
            "line 5: participants/MAS-P4: field \"family_name\": required field of participants "
            "is missing\n"
            "3 bad lines; nothing imported");
  EXPECT_EQ(Head(), 0u);
  EXPECT_EQ(stats_.lines, 0u);
}

TEST_F(RecordSourceTest, CsvNamesLineColumnHeaderRecordAndField) {
  std::string text = std::string(kCsvHeader) +
                     "MAS-P1,MAS,Cruz,Ana,X,true\r\n"
                     "MAS-P2,MAS,,Ben,M,yes\r\n"
                     "MAS-P3,MAS,Santos,\"Cora, Mae\",F,true\r\n"
                     "MAS-P4,MAS,Reyes,Dan,M\r\n";
  EXPECT_EQ(Import(text, Csv()),
            "line 2, column 5 (sex): participants/MAS-P1: field \"sex\": \"X\" is not one of F, "
            "M\n"
            "line 3, column 6 (consent): participants/MAS-P2: field \"consent\": expected true or "
            "false, not \"yes\"\n"
            "line 5: row has 5 cells; the header has 6 columns\n"
            "3 bad lines; nothing imported");
  EXPECT_EQ(Head(), 0u);
}

TEST_F(RecordSourceTest, CsvPointsARequiredFieldErrorAtItsColumn) {
  std::string text = std::string(kCsvHeader) + "MAS-P1,MAS,,Ana,F,true\r\n";
  EXPECT_EQ(Import(text, Csv()),
            "line 2, column 3 (family_name): participants/MAS-P1: field \"family_name\": required "
            "field of participants is missing\n"
            "1 bad line; nothing imported");
}

TEST_F(RecordSourceTest, CsvHeaderErrorsComeFirstAndRowsAreStillChecked) {
  std::string text =
      "id,site,nickname,family_name,given_name,consent,site\n"
      "MAS-P1,MAS,Jun,Cruz,Ana,maybe,MAS\n";
  EXPECT_EQ(Import(text, Csv()),
            "line 1, column 3 (nickname): unknown column \"nickname\": not a field of "
            "participants\n"
            "line 1, column 7 (site): column \"site\" repeated (first in column 2)\n"
            "line 2, column 6 (consent): participants/MAS-P1: field \"consent\": expected true or "
            "false, not \"maybe\"\n"
            "2 bad lines; nothing imported");
}

TEST_F(RecordSourceTest, CsvNeedsACollectionThatTheWriterMayWrite) {
  EXPECT_EQ(Import(kCsvHeader, Csv("")),
            "a CSV file holds one collection: name it with --collection\n"
            "1 bad line; nothing imported");
  EXPECT_EQ(Import("id,name\nPH,Philippines\n", Csv("countries")),
            "--collection: collection \"countries\" is reference data, written only at the hub\n"
            "1 bad line; nothing imported");
}

TEST_F(RecordSourceTest, CsvImportsWithBomCrlfEmptyCellsAndAnyColumnOrder) {
  std::string text =
      "\xEF\xBB\xBF"
      "consent,given_name,id,family_name,site,sex,birth_date\r\n"
      "true,Ana,MAS-P1,\"Dela Cruz, Jr.\",MAS,,\r\n"
      "\r\n"
      ",,,,,,\r\n"
      "false,\"Ben \"\"Boy\"\"\",MAS-P2,Reyes,MAS,M,1990-01-31";
  EXPECT_EQ(Import(text, Csv()), "ok");
  EXPECT_EQ(stats_.lines, 2u);
  std::ostringstream out;
  ExportJsonLines(*store_, "participants", "", out);
  EXPECT_EQ(out.str(),
            "{\"collection\":\"participants\",\"id\":\"MAS-P1\",\"fields\":{\"consent\":true,"
            "\"family_name\":\"Dela Cruz, Jr.\",\"given_name\":\"Ana\",\"site\":\"MAS\"}}\n"
            "{\"collection\":\"participants\",\"id\":\"MAS-P2\",\"fields\":{\"birth_date\":"
            "\"1990-01-31\",\"consent\":false,\"family_name\":\"Reyes\",\"given_name\":\"Ben "
            "\\\"Boy\\\"\",\"sex\":\"M\",\"site\":\"MAS\"}}\n");
  std::ostringstream csv;
  ExportCsv(*store_, *config::DefaultSchema().Find("participants"), "", csv);
  EXPECT_EQ(csv.str(),
            "id,site,family_name,given_name,sex,birth_date,civil_status,province,municipality,"
            "phone,occupation,migration_status,destination_country,consent,registered_at\r\n"
            "MAS-P1,MAS,\"Dela Cruz, Jr.\",Ana,,,,,,,,,,true,\r\n"
            "MAS-P2,MAS,Reyes,\"Ben \"\"Boy\"\"\",M,1990-01-31,,,,,,,,false,\r\n");
}

TEST_F(RecordSourceTest, JsonLinesMayStartWithABom) {
  EXPECT_EQ(Import("\xEF\xBB\xBF" + Participant("MAS-P1") + "\r\n" + Participant("MAS-P2")), "ok");
  EXPECT_EQ(stats_.lines, 2u);
}

TEST_F(RecordSourceTest, InvalidUtf8IsNamedWithItsByteOffsetInEitherFormat) {
  std::string first = Participant("MAS-P1");
  std::string bad = Participant("MAS-P2", ",\"phone\":\"09\xC3\x28\"");
  size_t offset = first.size() + bad.find('\xC3');
  EXPECT_EQ(Import(first + bad + Participant("MAS-P3")),
            "line 2: invalid UTF-8 at byte offset " + std::to_string(offset) +
                " of the file\n1 bad line; nothing imported");
  std::string csv = std::string(kCsvHeader) + "MAS-P1,MAS,Ib\xA4\x65z,Ana,F,true\r\n";
  EXPECT_EQ(Import(csv, Csv()), "line 2: invalid UTF-8 at byte offset " +
                                    std::to_string(csv.find('\xA4')) +
                                    " of the file\n1 bad line; nothing imported");
}

TEST_F(RecordSourceTest, ShowsTheFirstHundredErrorsThenHowManyMore) {
  std::string text;
  for (int i = 1; i <= 130; ++i) text += Participant("MAS-P" + std::to_string(i), ",\"sex\":\"?\"");
  std::string out = Import(text);
  EXPECT_NE(out.find("line 100: participants/MAS-P100: field \"sex\""), std::string::npos);
  EXPECT_EQ(out.find("line 101:"), std::string::npos);
  EXPECT_NE(out.find("\nand 30 more\n130 bad lines; nothing imported"), std::string::npos) << out;
}

TEST_F(RecordSourceTest, AnEmptyFileIsAnErrorUnlessAllowed) {
  EXPECT_EQ(Import("\n\n"),
            "no records (give --allow-empty to accept a file without records)\n"
            "1 bad line; nothing imported");
  EXPECT_EQ(Import(kCsvHeader, Csv()),
            "no records (give --allow-empty to accept a file without records)\n"
            "1 bad line; nothing imported");
  ImportOptions allowed = Csv();
  allowed.allow_empty = true;
  EXPECT_EQ(Import(kCsvHeader, allowed), "ok");
  ImportOptions allowed_jsonl;
  allowed_jsonl.allow_empty = true;
  EXPECT_EQ(Import("", allowed_jsonl), "ok");
}

TEST(Utf8Test, FindsTruncatedOverlongSurrogateAndOutOfRangeSequences) {
  EXPECT_EQ(FindInvalidUtf8("plain ñ 日本 😀"), std::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("ab\xC3"), 2u);             // truncated
  EXPECT_EQ(FindInvalidUtf8("a\xC0\xAF"), 1u);          // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xED\xA0\x80"), 0u);       // UTF-16 surrogate
  EXPECT_EQ(FindInvalidUtf8("x\xF4\x90\x80\x80"), 1u);  // past U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("\x80"), 0u);               // lone continuation byte
  EXPECT_EQ(FindInvalidUtf8("\xC3\xA9\xFF", 2), 2u);
}

TEST(FormatTest, ChosenByFlagOrCsvFileName) {
  RecordFormat format;
  ASSERT_TRUE(FormatOf("", "people.csv", &format).ok());
  EXPECT_EQ(format, RecordFormat::kCsv);
  ASSERT_TRUE(FormatOf("", "people.jsonl", &format).ok());
  EXPECT_EQ(format, RecordFormat::kJsonLines);
  ASSERT_TRUE(FormatOf("jsonl", "people.csv", &format).ok());
  EXPECT_EQ(format, RecordFormat::kJsonLines);
  ASSERT_TRUE(FormatOf("csv", "-", &format).ok());
  EXPECT_EQ(format, RecordFormat::kCsv);
  EXPECT_EQ(FormatOf("xlsx", "a", &format).ToString(),
            "--format: unknown format \"xlsx\" (csv or jsonl)");
}

}  // namespace
}  // namespace osrc::replica

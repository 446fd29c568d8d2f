// Tests of the JSON form of records (config/record_json.h): parsing import lines and field
// objects against the shipped schema, and the export line format.
#include "config/record_json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "config/schema_loader.h"
#include "protocol/change.h"

namespace osrc::config {
namespace {

using protocol::Field;
using protocol::Value;

const Schema& S() { return DefaultSchema(); }

Status Parse(std::string_view line, JsonRecord* out, std::string_view site = "MAS",
             const RefLookup* refs = nullptr) {
  return ParseRecordLine(S(), line, site, WriteChecks{.refs = refs, .now_ms = {}}, out);
}

// --- ParseRecordLine.

TEST(RecordJsonTest, ParsesALineTypedBySchema) {
  JsonRecord record;
  Status status =
      Parse(R"({"collection":"participants","id":"MAS-P1","fields":)"
            R"({"sex":"F","given_name":"Ana","consent":true,"family_name":"Cruz","phone":null}})",
            &record);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(record.collection, "participants");
  EXPECT_EQ(record.id, "MAS-P1");
  // Sorted by name; null kept as an unset.
  std::vector<Field> expected = {{"consent", true, 0},
                                 {"family_name", std::string("Cruz"), 0},
                                 {"given_name", std::string("Ana"), 0},
                                 {"phone", Value(), 0},
                                 {"sex", std::string("F"), 0}};
  EXPECT_EQ(record.fields, expected);
}

TEST(RecordJsonTest, KeyOrderAndWhitespaceDoNotMatter) {
  JsonRecord one, two;
  ASSERT_TRUE(
      Parse(R"({"collection":"courses","id":"c1","fields":{"name":"N","hours":8}})", &one, "")
          .ok());
  ASSERT_TRUE(
      Parse(
          R"(  { "fields" : { "hours" : 8 , "name" : "N" } , "id" : "c1" , "collection" : "courses" } )",
          &two, "")
          .ok());
  EXPECT_EQ(one.fields, two.fields);
  EXPECT_EQ(one.fields[0].value, Value(int64_t{8}));
}

TEST(RecordJsonTest, FieldErrorsNameTheRecordAndField) {
  JsonRecord record;
  Status status = Parse(
      R"({"collection":"participants","id":"MAS-P1","fields":{"sex":"X","family_name":"Cruz"}})",
      &record);
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_EQ(status.where(), "participants/MAS-P1: field \"sex\"");
  EXPECT_EQ(status.what(), "\"X\" is not one of F, M");

  status =
      Parse(R"({"collection":"participants","id":"MAS-P1","fields":{"birth_date":"1990-02-30"}})",
            &record);
  EXPECT_EQ(status.where(), "participants/MAS-P1: field \"birth_date\"");
  EXPECT_NE(status.what().find("is not a date"), std::string::npos);

  status =
      Parse(R"({"collection":"participants","id":"MAS-P1","fields":{"consent":"yes"}})", &record);
  EXPECT_EQ(status.where(), "participants/MAS-P1: field \"consent\"");
  EXPECT_EQ(status.what(), "expected true or false");

  status =
      Parse(R"({"collection":"participants","id":"MAS-P1","fields":{"shoe_size":42}})", &record);
  EXPECT_EQ(status.where(), "participants/MAS-P1: field \"shoe_size\"");
  EXPECT_NE(status.what().find("unknown field"), std::string::npos);

  status = Parse(R"({"collection":"participants","id":"MAS-P1","fields":{"phone":{"home":"1"}}})",
                 &record);
  EXPECT_EQ(status.where(), "participants/MAS-P1: field \"phone\"");
  EXPECT_NE(status.what().find("not an object or array"), std::string::npos);

  status = Parse(R"({"collection":"participants","id":"MAS-P1","fields":{"phone":[1]}})", &record);
  EXPECT_EQ(status.where(), "participants/MAS-P1: field \"phone\"");
}

TEST(RecordJsonTest, NumbersAreTypedByTheField) {
  JsonRecord record;
  // An integer for an int field.
  ASSERT_TRUE(
      Parse(R"({"collection":"courses","id":"c","fields":{"name":"n","hours":-3}})", &record, "")
          .ok());
  EXPECT_EQ(record.fields[0].value, Value(int64_t{-3}));
  // A fraction for an int field is refused.
  Status status =
      Parse(R"({"collection":"courses","id":"c","fields":{"name":"n","hours":1.5}})", &record, "");
  EXPECT_EQ(status.where(), "courses/c: field \"hours\"");
  EXPECT_EQ(status.what(), "expected an integer");
  // Past int64.
  status = Parse(R"({"collection":"courses","id":"c","fields":{"hours":9223372036854775808}})",
                 &record, "");
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_NE(status.what().find("out of range"), std::string::npos);
  EXPECT_NE(status.where().find("hours"), std::string::npos);
  ASSERT_TRUE(Parse(R"({"collection":"courses","id":"c","fields":{"hours":9223372036854775807}})",
                    &record, "")
                  .ok());
  EXPECT_EQ(record.fields[0].value, Value(std::numeric_limits<int64_t>::max()));
  ASSERT_TRUE(Parse(R"({"collection":"courses","id":"c","fields":{"hours":-9223372036854775808}})",
                    &record, "")
                  .ok());
  EXPECT_EQ(record.fields[0].value, Value(std::numeric_limits<int64_t>::min()));
}

TEST(RecordJsonTest, IntegersForFloatFieldsBecomeNumbers) {
  CollectionSpec spec;
  spec.name = "things";
  FieldSpec& ratio = spec.fields["ratio"];
  ratio.name = "ratio";
  ratio.type = FieldType::kFloat;
  std::vector<Field> fields;
  ASSERT_TRUE(ParseFields(spec, "t1", R"({"ratio":2})", WriteChecks{}, &fields).ok());
  EXPECT_EQ(fields[0].value, Value(2.0));
  ASSERT_TRUE(ParseFields(spec, "t1", R"({"ratio":-0.25})", WriteChecks{}, &fields).ok());
  EXPECT_EQ(fields[0].value, Value(-0.25));
  Status status = ParseFields(spec, "t1", R"({"ratio":"2"})", WriteChecks{}, &fields);
  EXPECT_EQ(status.what(), "expected a number");
}

TEST(RecordJsonTest, MalformedJsonIsAnError) {
  JsonRecord record;
  for (const char* line : {"", "{", "{\"collection\":}", "not json", "{\"a\":1}}",
                           "{\"collection\":\"participants\",}", "\xff\xfe"}) {
    Status status = Parse(line, &record);
    EXPECT_EQ(status.code(), ErrorCode::kBadInput) << line;
    EXPECT_EQ(status.what(), "malformed JSON") << line;
  }
}

TEST(RecordJsonTest, LineMustBeAnObjectWithTheThreeKeys) {
  JsonRecord record;
  struct Case {
    const char* line;
    const char* what;
  };
  std::vector<Case> cases = {
      {"[1,2]", "not a JSON object"},
      {"\"text\"", "not a JSON object"},
      {"null", "not a JSON object"},
      {R"({"collection":"participants","id":"MAS-P1","fields":{},"extra":1})",
       "unknown key \"extra\""},
      {R"({"collection":"participants","id":"MAS-P1","fields":{},"Fields":{}})",
       "unknown key \"Fields\""},
      {R"({"id":"MAS-P1","fields":{}})", "\"collection\" missing or not text"},
      {R"({"collection":7,"id":"MAS-P1","fields":{}})", "\"collection\" missing or not text"},
      {R"({"collection":"participants","fields":{}})", "\"id\" missing or not text"},
      {R"({"collection":"participants","id":1,"fields":{}})", "\"id\" missing or not text"},
      {R"({"collection":"participants","id":"MAS-P1"})", "\"fields\" missing"},
      {R"({"collection":"participants","id":"MAS-P1","fields":[]})", "\"fields\" is not an object"},
      {R"({"collection":"participants","id":"MAS-P1","fields":"x"})",
       "\"fields\" is not an object"},
  };
  for (const Case& c : cases) {
    Status status = Parse(c.line, &record);
    EXPECT_EQ(status.code(), ErrorCode::kBadInput) << c.line;
    EXPECT_NE(status.what().find(c.what), std::string::npos)
        << c.line << " -> " << status.ToString();
  }
}

TEST(RecordJsonTest, CollectionAndIdAreChecked) {
  JsonRecord record;
  Status status = Parse(R"({"collection":"people","id":"MAS-P1","fields":{}})", &record);
  EXPECT_NE(status.what().find("unknown collection \"people\""), std::string::npos);
  status = Parse(R"({"collection":"participants","id":"MNL-P1","fields":{}})", &record);
  EXPECT_EQ(status.code(), ErrorCode::kForbidden);
  status =
      Parse(R"({"collection":"countries","id":"PH","fields":{"name":"Philippines"}})", &record);
  EXPECT_EQ(status.code(), ErrorCode::kForbidden);
  // The hub writes anything.
  EXPECT_TRUE(
      Parse(R"({"collection":"countries","id":"PH","fields":{"name":"P"}})", &record, "").ok());
  EXPECT_TRUE(
      Parse(R"({"collection":"participants","id":"MNL-P1","fields":{}})", &record, "").ok());
  status = Parse(R"({"collection":"participants","id":"MAS-P\u0001","fields":{}})", &record);
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_EQ(status.what(),
            "id \"MAS-P?\" has U+0001 at byte 6: after the site code only letters, "
            "digits and \"-\"");
}

TEST(RecordJsonTest, NulInTextIsRefused) {
  JsonRecord record;
  Status status = Parse(
      R"({"collection":"participants","id":"MAS-P1","fields":{"phone":"09\u000017"}})", &record);
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_EQ(status.ToString(),
            "participants/MAS-P1: field \"phone\": text holds control character U+0000 at byte 3");
}

TEST(RecordJsonTest, ReferencesAreLookedUp) {
  JsonRecord record;
  RefLookup refs = [](std::string_view collection, std::string_view id) {
    return collection == "countries" && id == "JP" ? RefState::kLive : RefState::kNone;
  };
  std::string line =
      R"({"collection":"participants","id":"MAS-P1","fields":{"destination_country":"JP"}})";
  EXPECT_TRUE(Parse(line, &record, "MAS", &refs).ok());
  line = R"({"collection":"participants","id":"MAS-P1","fields":{"destination_country":"XX"}})";
  Status status = Parse(line, &record, "MAS", &refs);
  EXPECT_EQ(status.where(), "participants/MAS-P1: field \"destination_country\"");
  EXPECT_EQ(status.what(), "no countries record \"XX\"");
  // Without a lookup the reference is not checked.
  EXPECT_TRUE(Parse(line, &record, "MAS", nullptr).ok());
}

TEST(RecordJsonTest, ParseFieldsChecksTheObject) {
  const CollectionSpec& spec = *S().Find("participants");
  std::vector<Field> fields;
  ASSERT_TRUE(
      ParseFields(spec, "MAS-P1", R"({"phone":"0917","sex":"M"})", WriteChecks{}, &fields).ok());
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].name, "phone");
  EXPECT_EQ(ParseFields(spec, "MAS-P1", "{", WriteChecks{}, &fields).what(), "malformed JSON");
  EXPECT_EQ(ParseFields(spec, "MAS-P1", "[]", WriteChecks{}, &fields).what(),
            "\"fields\" is not an object");
  Status status = ParseFields(spec, "MAS-P1", R"({"sex":"X"})", WriteChecks{}, &fields);
  EXPECT_EQ(status.ToString(), "field \"sex\": \"X\" is not one of F, M");
  ASSERT_TRUE(ParseFields(spec, "MAS-P1", "{}", WriteChecks{}, &fields).ok());
  EXPECT_TRUE(fields.empty());
}

TEST(RecordJsonTest, DuplicateKeysAreRefused) {
  // nlohmann keeps the last of two equal keys; a user who typed both meant one of them.
  const CollectionSpec& spec = *S().Find("participants");
  std::vector<Field> fields;
  Status status =
      ParseFields(spec, "MAS-P1", R"({"sex":"F","phone":"1","sex":"M"})", WriteChecks{}, &fields);
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_EQ(status.ToString(), "duplicate key \"sex\"");
  JsonRecord record;
  status = Parse(R"({"collection":"participants","id":"MAS-P1","fields":{"sex":"F","sex":"F"}})",
                 &record);
  EXPECT_EQ(status.ToString(), "participants/MAS-P1: duplicate key \"sex\"");
  status =
      Parse(R"({"collection":"participants","id":"MAS-P1","id":"MAS-P2","fields":{}})", &record);
  EXPECT_EQ(status.ToString(), "participants/MAS-P2: duplicate key \"id\"");
  // The same key in two objects is no duplicate.
  EXPECT_TRUE(
      ParseFields(spec, "MAS-P1", R"({"sex":"F","phone":"1"})", WriteChecks{}, &fields).ok());
}

// --- Output.

TEST(RecordJsonTest, ValueJsonWritesEachType) {
  EXPECT_EQ(ValueJson(Value()), "null");
  EXPECT_EQ(ValueJson(true), "true");
  EXPECT_EQ(ValueJson(false), "false");
  EXPECT_EQ(ValueJson(int64_t{-42}), "-42");
  EXPECT_EQ(ValueJson(std::numeric_limits<int64_t>::min()), "-9223372036854775808");
  EXPECT_EQ(ValueJson(0.5), "0.5");
  EXPECT_EQ(ValueJson(2.0), "2.0");  // stays a number with a fraction
  EXPECT_EQ(ValueJson(std::string("a\"b\\c\n\x01")), R"("a\"b\\c\n\u0001")");
  EXPECT_EQ(ValueJson(std::string("Piñas")), "\"Piñas\"");
}

TEST(RecordJsonTest, RecordLineIsCompactSortedAndLeavesOutNulls) {
  Value name = std::string("Ana"), phone, consent = true, sex = std::string("F");
  std::string line =
      RecordLine("participants", "MAS-P1",
                 {{"consent", &consent}, {"given_name", &name}, {"phone", &phone}, {"sex", &sex}});
  EXPECT_EQ(
      line,
      R"({"collection":"participants","id":"MAS-P1","fields":{"consent":true,"given_name":"Ana","sex":"F"}})");
  EXPECT_EQ(RecordLine("countries", "PH", {}),
            R"({"collection":"countries","id":"PH","fields":{}})");
  EXPECT_EQ(RecordLine("countries", "PH", {{"name", &phone}}),
            R"({"collection":"countries","id":"PH","fields":{}})");
}

TEST(RecordJsonTest, InvalidUtf8IsReplacedNotPassedThrough) {
  Value bad = std::string(
      "a\xff"
      "b");
  std::string line = RecordLine("participants", "MAS-P1", {{"phone", &bad}});
  JsonRecord record;
  Status status = Parse(line, &record);
  ASSERT_TRUE(status.ok()) << line << ": " << status.ToString();
  EXPECT_NE(std::get<std::string>(record.fields[0].value),
            "a\xff"
            "b");
}

TEST(RecordJsonTest, ExportLinesParseBackToTheSameFields) {
  // Round trip through RecordLine and ParseRecordLine for every field type of the shipped
  // schema, with random values that pass the checks.
  constexpr uint64_t kSeed = 5;
  std::mt19937_64 rng(kSeed);
  const CollectionSpec& spec = *S().Find("participants");
  for (int iteration = 0; iteration < 500; ++iteration) {
    std::vector<Field> fields;
    for (const auto& [name, field] : spec.fields) {
      if (rng() % 2) continue;
      Value value;
      switch (field.type) {
        case FieldType::kBool:
          value = rng() % 2 == 0;
          break;
        case FieldType::kDate:
          value = std::string("2024-02-29");
          break;
        case FieldType::kDateTime:
          value = std::string("2024-02-29T12:34:56.789Z");
          break;
        case FieldType::kEnum:
          value = field.values[rng() % field.values.size()];
          break;
        default: {
          // Text the schema allows (no control characters; `site` is the id's site; required
          // text not blank) with everything JSON escapes.
          std::string text = name == "site" ? "MAS" : field.required ? "a" : "";
          for (size_t i = name == "site" ? 0 : rng() % 12; i > 0; --i) {
            static const char* kPieces[] = {"a", "\"", "\\", "'", "b", "é", "ñ", "漢", "/", " "};
            text += kPieces[rng() % 10];
          }
          value = text;
        }
      }
      fields.push_back({name, value, 0});
    }
    std::vector<FieldValue> out;
    for (const Field& field : fields) out.push_back({field.name, &field.value});
    std::string line = RecordLine("participants", "MAS-P1", out);
    ASSERT_EQ(line.find('\n'), std::string::npos);
    JsonRecord record;
    Status status = Parse(line, &record);
    ASSERT_TRUE(status.ok()) << "seed " << kSeed << " iteration " << iteration << ": " << line
                             << " -> " << status.ToString();
    ASSERT_EQ(record.fields, fields) << line;
  }
}

TEST(RecordJsonTest, FloatsRoundTripExactly) {
  CollectionSpec spec;
  spec.name = "things";
  FieldSpec& ratio = spec.fields["ratio"];
  ratio.name = "ratio";
  ratio.type = FieldType::kFloat;
  std::mt19937_64 rng(11);
  for (int i = 0; i < 2000; ++i) {
    double value = std::ldexp(static_cast<double>(rng() % 1000000) - 500000,
                              static_cast<int>(rng() % 200) - 100);
    std::vector<Field> fields;
    std::string json = "{\"ratio\":" + ValueJson(value) + "}";
    ASSERT_TRUE(ParseFields(spec, "MAS-P1", json, WriteChecks{}, &fields).ok()) << json;
    ASSERT_EQ(fields[0].value, Value(value)) << json;
  }
}

}  // namespace
}  // namespace osrc::config

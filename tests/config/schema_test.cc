// Tests of the schema model and its checks (config/schema.h), against the shipped schema
// (config::DefaultSchema()) and small hand-made specs.
#include "config/schema.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "config/schema_loader.h"
#include "protocol/change.h"

namespace osrc::config {
namespace {

using protocol::Field;
using protocol::Value;

const CollectionSpec& Spec(std::string_view collection) {
  const CollectionSpec* spec = DefaultSchema().Find(collection);
  if (spec == nullptr) throw std::runtime_error("no collection " + std::string(collection));
  return *spec;
}

const FieldSpec& FieldOf(std::string_view collection, std::string_view field) {
  const FieldSpec* spec = Spec(collection).Find(field);
  if (spec == nullptr) throw std::runtime_error("no field " + std::string(field));
  return *spec;
}

// --- The shipped schema.

TEST(DefaultSchemaTest, HasTheOsrcCollectionsWithTheirOwners) {
  std::map<std::string, Owner> expected = {
      {"participants", Owner::kSite}, {"services", Owner::kSite},   {"referrals", Owner::kSite},
      {"trainings", Owner::kSite},    {"attendance", Owner::kSite}, {"service_types", Owner::kHub},
      {"countries", Owner::kHub},     {"agencies", Owner::kHub},    {"courses", Owner::kHub},
      {"localities", Owner::kHub}};
  std::map<std::string, Owner> actual;
  for (const auto& [name, spec] : DefaultSchema().collections()) {
    EXPECT_EQ(spec.name, name);
    actual[name] = spec.owner;
  }
  EXPECT_EQ(actual, expected);
  EXPECT_EQ(DefaultSchema().Find("nope"), nullptr);
  EXPECT_NE(DefaultSchema().hash(), 0u);
}

TEST(DefaultSchemaTest, ParticipantFieldsHaveTheirTypes) {
  std::map<std::string, FieldType> expected = {{"site", FieldType::kText},
                                               {"family_name", FieldType::kText},
                                               {"given_name", FieldType::kText},
                                               {"sex", FieldType::kEnum},
                                               {"birth_date", FieldType::kDate},
                                               {"civil_status", FieldType::kEnum},
                                               {"province", FieldType::kText},
                                               {"municipality", FieldType::kText},
                                               {"phone", FieldType::kText},
                                               {"occupation", FieldType::kText},
                                               {"migration_status", FieldType::kEnum},
                                               {"destination_country", FieldType::kRef},
                                               {"consent", FieldType::kBool},
                                               {"registered_at", FieldType::kDateTime}};
  std::map<std::string, FieldType> actual;
  for (const auto& [name, field] : Spec("participants").fields) actual[name] = field.type;
  EXPECT_EQ(actual, expected);
  EXPECT_EQ(FieldOf("participants", "sex").values, (std::vector<std::string>{"F", "M"}));
  EXPECT_EQ(FieldOf("participants", "destination_country").collection, "countries");
  EXPECT_TRUE(FieldOf("participants", "family_name").required);
  EXPECT_TRUE(FieldOf("participants", "family_name").pii);
  EXPECT_TRUE(FieldOf("participants", "consent").required);
  EXPECT_FALSE(FieldOf("participants", "phone").required);
  EXPECT_TRUE(FieldOf("participants", "phone").pii);
  EXPECT_FALSE(FieldOf("participants", "province").pii);
}

TEST(DefaultSchemaTest, OtherCollectionsHaveTheirKeyFields) {
  EXPECT_EQ(FieldOf("services", "service_type").type, FieldType::kRef);
  EXPECT_EQ(FieldOf("services", "service_type").collection, "service_types");
  EXPECT_EQ(FieldOf("services", "date").type, FieldType::kDate);
  EXPECT_TRUE(FieldOf("services", "date").required);
  EXPECT_EQ(FieldOf("services", "outcome").values,
            (std::vector<std::string>{"completed", "ongoing", "referred", "no_show"}));
  EXPECT_EQ(FieldOf("referrals", "agency").collection, "agencies");
  EXPECT_EQ(FieldOf("referrals", "followup_date").type, FieldType::kDate);
  EXPECT_EQ(FieldOf("trainings", "course").collection, "courses");
  EXPECT_EQ(FieldOf("attendance", "attended").type, FieldType::kBool);
  EXPECT_TRUE(FieldOf("attendance", "attended").required);
  EXPECT_EQ(FieldOf("courses", "hours").type, FieldType::kInt);
  EXPECT_EQ(FieldOf("localities", "level").values,
            (std::vector<std::string>{"province", "city", "municipality"}));
  for (const char* hub : {"service_types", "countries", "agencies", "courses", "localities"}) {
    EXPECT_TRUE(FieldOf(hub, "name").required) << hub;
    EXPECT_EQ(FieldOf(hub, "name").type, FieldType::kText) << hub;
  }
}

TEST(DefaultSchemaTest, EveryRefNamesAKnownCollection) {
  for (const auto& [name, spec] : DefaultSchema().collections()) {
    for (const auto& [field_name, field] : spec.fields) {
      EXPECT_EQ(field.name, field_name);
      if (field.type == FieldType::kRef) {
        EXPECT_NE(DefaultSchema().Find(field.collection), nullptr) << name << "." << field_name;
      }
      if (field.type == FieldType::kEnum) {
        EXPECT_FALSE(field.values.empty()) << name << "." << field_name;
      }
    }
  }
}

TEST(SchemaTest, FieldTypeNames) {
  EXPECT_EQ(FieldTypeName(FieldType::kText), "text");
  EXPECT_EQ(FieldTypeName(FieldType::kInt), "int");
  EXPECT_EQ(FieldTypeName(FieldType::kFloat), "float");
  EXPECT_EQ(FieldTypeName(FieldType::kBool), "bool");
  EXPECT_EQ(FieldTypeName(FieldType::kDate), "date");
  EXPECT_EQ(FieldTypeName(FieldType::kDateTime), "datetime");
  EXPECT_EQ(FieldTypeName(FieldType::kEnum), "enum");
  EXPECT_EQ(FieldTypeName(FieldType::kRef), "ref");
}

// --- Dates.

TEST(SchemaTest, IsDateAcceptsRealCalendarDays) {
  for (const char* date :
       {"2024-01-01", "2024-12-31", "2024-02-29", "2000-02-29", "1999-04-30", "0001-01-01"}) {
    EXPECT_TRUE(IsDate(date)) << date;
  }
}

TEST(SchemaTest, IsDateRejectsEverythingElse) {
  for (const char* date : {"", "2024-1-01", "2024-01-1", "2024/01/01", "2024-00-10", "2024-13-01",
                           "2024-01-00", "2024-01-32", "2023-02-29", "1900-02-29", "2024-04-31",
                           "2024-06-31", "20240101", "2024-01-01 ", " 2024-01-01",
                           "2024-01-01T00:00:00Z", "abcd-ef-gh", "2024-0a-01", "+024-01-01"}) {
    EXPECT_FALSE(IsDate(date)) << date;
  }
}

TEST(SchemaTest, IsDateTimeAcceptsUtcTimestamps) {
  for (const char* text :
       {"2024-01-02T03:04:05Z", "2024-12-31T23:59:59Z", "2024-06-30T23:59:60Z",
        "2024-01-02T03:04:05.1Z", "2024-01-02T03:04:05.123Z", "2024-01-02T03:04:05.123456789Z"}) {
    EXPECT_TRUE(IsDateTime(text)) << text;
  }
}

TEST(SchemaTest, IsDateTimeRejectsEverythingElse) {
  for (const char* text :
       {"", "2024-01-02", "2024-01-02T03:04:05", "2024-01-02T03:04:05+00:00",
        "2024-01-02 03:04:05Z", "2024-01-02T24:00:00Z", "2024-01-02T23:60:00Z",
        "2024-01-02T23:59:61Z", "2024-02-30T00:00:00Z", "2024-01-02T3:04:05Z",
        "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05,123Z", "2024-01-02T03:04:05.12aZ",
        "2024-01-02T03-04-05Z", "2024-01-02T03:04:05.1234567890Z", "2024-01-02T03:04:05z"}) {
    EXPECT_FALSE(IsDateTime(text)) << text;
  }
}

// --- Ids.

TEST(SchemaTest, CheckIdAcceptsSitePrefixedIds) {
  EXPECT_TRUE(Schema::CheckId(Spec("participants"), "MAS-P0000001", "MAS").ok());
  // The hub (no site) writes any site's records.
  EXPECT_TRUE(Schema::CheckId(Spec("participants"), "MNL-P1", "").ok());
  // Reference data has no prefix rule.
  EXPECT_TRUE(Schema::CheckId(Spec("countries"), "PH", "MAS").ok());
}

TEST(SchemaTest, CheckIdRejectsAnotherSitesPrefix) {
  for (const char* id : {"MNL-P1", "MAS", "MASP1", "mas-P1", "MA-P1", "MASS-P1"}) {
    Status status = Schema::CheckId(Spec("participants"), id, "MAS");
    EXPECT_EQ(status.code(), ErrorCode::kForbidden) << id;
    EXPECT_NE(status.what().find("\"MAS-\""), std::string::npos) << status.what();
  }
}

TEST(SchemaTest, CheckIdRejectsControlCharactersAndSpaces) {
  for (std::string id :
       {std::string("MAS-P 1"), std::string("MAS-P\t1"), std::string("MAS-P\n1"),
        std::string("MAS-P\x7f"), std::string("MAS-P\0", 6), std::string(" MAS-P1")}) {
    Status status = Schema::CheckId(Spec("participants"), id, "MAS");
    EXPECT_EQ(status.code(), ErrorCode::kBadInput) << id;
    EXPECT_NE(status.what().find("space or control character"), std::string::npos);
    // The message never echoes control characters.
    for (char c : status.what()) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
  }
  EXPECT_EQ(Schema::CheckId(Spec("participants"), "", "MAS").code(), ErrorCode::kBadInput);
  // UTF-8 is fine.
  EXPECT_TRUE(Schema::CheckId(Spec("participants"), "MAS-Piñas", "MAS").ok());
}

TEST(SchemaTest, CheckIdLimitsLength) {
  std::string longest = "MAS-" + std::string(kMaxIdBytes - 4, 'x');
  EXPECT_TRUE(Schema::CheckId(Spec("participants"), longest, "MAS").ok());
  Status status = Schema::CheckId(Spec("participants"), longest + "x", "MAS");
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_NE(status.what().find("longer than 64"), std::string::npos);
}

// --- Fields.

CollectionSpec TestSpec() {
  CollectionSpec spec;
  spec.name = "things";
  auto add = [&](std::string name, FieldType type) -> FieldSpec& {
    FieldSpec& field = spec.fields[name];
    field.name = name;
    field.type = type;
    return field;
  };
  add("text", FieldType::kText);
  add("count", FieldType::kInt);
  add("ratio", FieldType::kFloat);
  add("flag", FieldType::kBool);
  add("day", FieldType::kDate);
  add("at", FieldType::kDateTime);
  add("sex", FieldType::kEnum).values = {"F", "M"};
  add("country", FieldType::kRef).collection = "countries";
  add("must", FieldType::kText).required = true;
  return spec;
}

Status Check(const CollectionSpec& spec, std::string name, Value value,
             const RefLookup* refs = nullptr) {
  return Schema::CheckField(spec, Field{std::move(name), std::move(value), 0}, refs);
}

TEST(SchemaTest, CheckFieldAcceptsValuesOfTheRightType) {
  CollectionSpec spec = TestSpec();
  EXPECT_TRUE(Check(spec, "text", std::string("anything")).ok());
  EXPECT_TRUE(Check(spec, "count", int64_t{-3}).ok());
  EXPECT_TRUE(Check(spec, "ratio", 0.5).ok());
  EXPECT_TRUE(Check(spec, "flag", false).ok());
  EXPECT_TRUE(Check(spec, "day", std::string("2024-02-29")).ok());
  EXPECT_TRUE(Check(spec, "at", std::string("2024-02-29T10:00:00Z")).ok());
  EXPECT_TRUE(Check(spec, "sex", std::string("M")).ok());
  EXPECT_TRUE(Check(spec, "country", std::string("PH")).ok());  // no lookup: not checked
}

TEST(SchemaTest, CheckFieldAllowsNullForEveryType) {
  CollectionSpec spec = TestSpec();
  for (const auto& [name, field] : spec.fields)
    EXPECT_TRUE(Check(spec, name, Value()).ok()) << name;
}

TEST(SchemaTest, CheckFieldRejectsWrongTypesNamingTheField) {
  CollectionSpec spec = TestSpec();
  struct Case {
    const char* field;
    Value value;
    const char* expected;
  };
  std::vector<Case> cases = {
      {"count", std::string("3"), "expected an integer"},
      {"count", 3.0, "expected an integer"},
      {"count", true, "expected an integer"},
      {"ratio", int64_t{1}, "expected a number"},
      {"flag", int64_t{1}, "expected true or false"},
      {"flag", std::string("true"), "expected true or false"},
      {"text", int64_t{1}, "expected text"},
      {"day", false, "expected text"},
      {"sex", int64_t{0}, "expected text"},
      {"day", std::string("2023-02-29"), "\"2023-02-29\" is not a date YYYY-MM-DD"},
      {"at", std::string("2024-01-01"), "is not a UTC date-time"},
      {"sex", std::string("X"), "\"X\" is not one of F, M"},
      {"sex", std::string("f"), "\"f\" is not one of F, M"},
  };
  for (const Case& c : cases) {
    Status status = Check(spec, c.field, c.value);
    EXPECT_EQ(status.code(), ErrorCode::kBadInput) << c.field;
    EXPECT_NE(status.what().find(c.expected), std::string::npos) << status.ToString();
    EXPECT_EQ(status.where(), "field \"" + std::string(c.field) + "\"");
  }
}

TEST(SchemaTest, EnumErrorOnTheShippedSchemaNamesTheAllowedValues) {
  Status status = Check(Spec("participants"), "sex", std::string("X"));
  EXPECT_EQ(status.ToString(), "field \"sex\": \"X\" is not one of F, M");
  status = Check(Spec("participants"), "civil_status", std::string("divorced"));
  EXPECT_NE(status.what().find("is not one of single, married, widowed, separated"),
            std::string::npos);
}

TEST(SchemaTest, CheckFieldRejectsUnknownFields) {
  Status status = Check(Spec("participants"), "favourite_colour", std::string("blue"));
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_EQ(status.where(), "field \"favourite_colour\"");
  EXPECT_NE(status.what().find("unknown field of participants"), std::string::npos);
}

TEST(SchemaTest, CheckFieldLimitsTextLength) {
  CollectionSpec spec = TestSpec();
  EXPECT_TRUE(Check(spec, "text", std::string(kMaxTextBytes, 'x')).ok());
  Status status = Check(spec, "text", std::string(kMaxTextBytes + 1, 'x'));
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_NE(status.what().find("16 KiB"), std::string::npos);
}

TEST(SchemaTest, CheckFieldRejectsNulInText) {
  CollectionSpec spec = TestSpec();
  for (const char* field : {"text", "sex", "country", "day"}) {
    Status status = Check(spec, field, std::string("F\0M", 3));
    EXPECT_EQ(status.code(), ErrorCode::kBadInput) << field;
    EXPECT_EQ(status.what(), "text contains a NUL character") << field;
  }
  EXPECT_TRUE(Check(spec, "text", std::string("tab\tand\nnewline")).ok());
}

TEST(SchemaTest, CheckFieldLooksUpReferences) {
  CollectionSpec spec = TestSpec();
  std::vector<std::pair<std::string, std::string>> asked;
  RefLookup refs = [&](std::string_view collection, std::string_view id) {
    asked.emplace_back(collection, id);
    return id == "PH";
  };
  EXPECT_TRUE(Check(spec, "country", std::string("PH"), &refs).ok());
  Status status = Check(spec, "country", std::string("XX"), &refs);
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_NE(status.what().find("\"XX\" is not a known countries id"), std::string::npos);
  EXPECT_EQ(asked, (std::vector<std::pair<std::string, std::string>>{{"countries", "PH"},
                                                                     {"countries", "XX"}}));
  // Null references are not looked up.
  EXPECT_TRUE(Check(spec, "country", Value(), &refs).ok());
  EXPECT_EQ(asked.size(), 2u);
}

TEST(SchemaTest, CheckRequiredLooksAtTheRecordAsItWillBe) {
  CollectionSpec spec = TestSpec();
  auto none = [](std::string_view) { return false; };
  auto all = [](std::string_view) { return true; };
  std::vector<Field> set = {{"must", std::string("here"), 0}};
  std::vector<Field> unset = {{"must", Value(), 0}};
  std::vector<Field> other = {{"text", std::string("x"), 0}};
  EXPECT_TRUE(Schema::CheckRequired(spec, set, none).ok());
  EXPECT_TRUE(Schema::CheckRequired(spec, other, all).ok());
  Status status = Schema::CheckRequired(spec, other, none);
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_EQ(status.where(), "field \"must\"");
  // Unsetting a required field is refused even when it is set now.
  EXPECT_FALSE(Schema::CheckRequired(spec, unset, all).ok());
}

// --- Collections and whole changes.

TEST(SchemaTest, CheckCollectionRefusesReferenceDataFromSites) {
  const CollectionSpec* spec = nullptr;
  EXPECT_TRUE(DefaultSchema().CheckCollection("participants", "MAS", &spec).ok());
  EXPECT_EQ(spec, DefaultSchema().Find("participants"));
  EXPECT_TRUE(DefaultSchema().CheckCollection("countries", "", &spec).ok());
  Status status = DefaultSchema().CheckCollection("countries", "MAS", &spec);
  EXPECT_EQ(status.code(), ErrorCode::kForbidden);
  EXPECT_NE(status.what().find("reference data"), std::string::npos);
  status = DefaultSchema().CheckCollection("people", "MAS", &spec);
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_NE(status.what().find("unknown collection \"people\""), std::string::npos);
}

protocol::Change ChangeOf(std::string collection, std::string id, std::vector<Field> fields) {
  protocol::Change change;
  change.collection = std::move(collection);
  change.id = std::move(id);
  change.origin = "MAS";
  change.fields = std::move(fields);
  return change;
}

TEST(SchemaTest, CheckChangeAcceptsAValidChange) {
  auto change = ChangeOf("participants", "MAS-P1",
                         {{"family_name", std::string("Cruz"), 0}, {"sex", std::string("F"), 0}});
  EXPECT_TRUE(DefaultSchema().CheckChange(change, "MAS").ok());
  EXPECT_TRUE(DefaultSchema().CheckChange(change, "").ok());
}

TEST(SchemaTest, CheckChangeErrorsNameTheRecordAndField) {
  auto change = ChangeOf("participants", "MAS-P1", {{"sex", std::string("X"), 0}});
  Status status = DefaultSchema().CheckChange(change, "MAS");
  EXPECT_EQ(status.where(), "participants/MAS-P1: field \"sex\"");
  EXPECT_EQ(DefaultSchema().CheckChange(change, "MNL").code(), ErrorCode::kForbidden);
  auto reference = ChangeOf("countries", "PH", {{"name", std::string("Philippines"), 0}});
  EXPECT_EQ(DefaultSchema().CheckChange(reference, "MAS").code(), ErrorCode::kForbidden);
  EXPECT_TRUE(DefaultSchema().CheckChange(reference, "").ok());
}

TEST(SchemaTest, CheckChangeRefusesADeleteWithFields) {
  auto change = ChangeOf("participants", "MAS-P1", {{"sex", std::string("F"), 0}});
  change.deleted = true;
  EXPECT_EQ(DefaultSchema().CheckChange(change, "MAS").code(), ErrorCode::kBadMessage);
  change.fields.clear();
  EXPECT_TRUE(DefaultSchema().CheckChange(change, "MAS").ok());
}

}  // namespace
}  // namespace osrc::config

// Tests of the schema model and its checks (config/schema.h), against the shipped schema
// (config::DefaultSchema()) and small hand-made specs.
#include "config/schema.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
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

TEST(SchemaTest, CheckIdRejectsControlCharactersAndSpacesInReferenceIds) {
  for (std::string id : {std::string("P H"), std::string("P\tH"), std::string("P\nH"),
                         std::string("PH\x7f"), std::string("PH\0", 3), std::string(" PH")}) {
    Status status = Schema::CheckId(Spec("countries"), id, "");
    EXPECT_EQ(status.code(), ErrorCode::kBadInput) << id;
    EXPECT_NE(status.what().find("space or control character"), std::string::npos);
    // The message never echoes control characters.
    for (char c : status.what()) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
  }
  EXPECT_EQ(Schema::CheckId(Spec("participants"), "", "MAS").code(), ErrorCode::kBadInput);
  // UTF-8 is fine in reference ids.
  EXPECT_TRUE(Schema::CheckId(Spec("localities"), "Las-Piñas", "").ok());
}

TEST(SchemaTest, SiteIdsAreTheSiteCodeADashThenLettersDigitsAndDashes) {
  for (const char* id : {"MAS-P0000001", "MAS-p-1", "MAS-2024-07-A"}) {
    EXPECT_TRUE(Schema::CheckId(Spec("services"), id, "MAS").ok()) << id;
    EXPECT_TRUE(Schema::CheckId(Spec("services"), id, "").ok()) << id;
  }
  struct Case {
    std::string id;
    std::string message;
  };
  std::vector<Case> cases = {
      {"MAS-P 1",
       "id \"MAS-P 1\" has U+0020 at byte 6: after the site code only letters, digits "
       "and \"-\""},
      {"MAS-P\t1",
       "id \"MAS-P?1\" has U+0009 at byte 6: after the site code only letters, "
       "digits and \"-\""},
      {"MAS-P.1",
       "id \"MAS-P.1\" has U+002E at byte 6: after the site code only letters, digits "
       "and \"-\""},
      {"MAS-Piñas",
       "id \"MAS-Piñas\" has U+00F1 at byte 7: after the site code only letters, "
       "digits and \"-\""},
      {"MAS-P\u202e1",
       "id \"MAS-P?1\" has U+202E at byte 6: after the site code only "
       "letters, digits and \"-\""},
      {"MAS-", "id \"MAS-\" has nothing after the site code"},
  };
  for (const Case& c : cases) {
    Status status = Schema::CheckId(Spec("participants"), c.id, "MAS");
    EXPECT_EQ(status.code(), ErrorCode::kBadInput) << c.id;
    EXPECT_EQ(status.what(), c.message);
  }
  // At the hub (no site), any site's code, which is 2 to 8 capitals or digits.
  for (const char* id : {"mas-P1", "M-P1", "MASBATE01-P1", "P1", "-P1"}) {
    Status status = Schema::CheckId(Spec("participants"), id, "");
    EXPECT_EQ(status.what(), "id \"" + std::string(id) +
                                 "\" does not start with a site code and "
                                 "\"-\"");
  }
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
             const RefLookup* refs = nullptr, std::optional<int64_t> now_ms = std::nullopt,
             std::string_view id = "MAS-X1") {
  return Schema::CheckField(spec, id, Field{std::move(name), std::move(value), 0},
                            WriteChecks{refs, now_ms});
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
    EXPECT_EQ(status.what(), "text holds control character U+0000 at byte 2") << field;
  }
}

TEST(SchemaTest, TextHoldsNoControlOrBidirectionalCharacters) {
  CollectionSpec spec = TestSpec();
  struct Case {
    std::string text;
    std::string message;
  };
  std::vector<Case> cases = {
      // Tab and newline too: a field is one line of text in exports, reports and the console.
      {"tab\there", "text holds control character U+0009 at byte 4"},
      {"two\nlines", "text holds control character U+000A at byte 4"},
      {"\x1b[31mred", "text holds control character U+001B at byte 1"},
      {"del\x7f", "text holds control character U+007F at byte 4"},
      {"c1 \u0085", "text holds control character U+0085 at byte 4"},
      {"abc\u202edef", "text holds bidirectional control U+202E at byte 4"},
      {"Ana \u2066x\u2069", "text holds bidirectional control U+2066 at byte 5"},
      {"bad \xff", "text is not valid UTF-8 at byte 5"},
      {"overlong \xc0\xaf", "text is not valid UTF-8 at byte 10"},
      {"cut \xe2\x80", "text is not valid UTF-8 at byte 5"},
  };
  for (const Case& c : cases) {
    Status status = Check(spec, "text", c.text);
    EXPECT_EQ(status.ToString(), "field \"text\": " + c.message) << c.text;
  }
  for (const char* text : {"Española", "Ma. Elena", "日本", "emoji \U0001F600", "a\u200fb"}) {
    EXPECT_TRUE(Check(spec, "text", std::string(text)).ok()) << text;
  }
}

TEST(SchemaTest, RequiredTextIsNotBlank) {
  CollectionSpec spec = TestSpec();
  for (const char* blank : {"", " ", "   ", "\u00a0", "\u3000 \u200b"}) {
    Status status = Check(spec, "must", std::string(blank));
    EXPECT_EQ(status.ToString(), "field \"must\": required text is blank") << blank;
  }
  EXPECT_TRUE(Check(spec, "must", std::string(" x ")).ok());
  // Optional text may be blank.
  EXPECT_TRUE(Check(spec, "text", std::string(" ")).ok());
  Status status = Check(Spec("participants"), "family_name", std::string("  "));
  EXPECT_EQ(status.ToString(), "field \"family_name\": required text is blank");
}

TEST(SchemaTest, SiteFieldEqualsTheSiteOfTheId) {
  EXPECT_TRUE(FieldOf("participants", "site").equals_id_site);
  EXPECT_TRUE(Check(Spec("participants"), "site", std::string("MAS"), nullptr, {}, "MAS-P1").ok());
  Status status = Check(Spec("participants"), "site", std::string("ANT"), nullptr, {}, "MAS-P1");
  EXPECT_EQ(status.ToString(), "field \"site\": \"ANT\" is not the site of the id, \"MAS\"");
  status = Check(Spec("participants"), "site", std::string("MAS "), nullptr, {}, "MAS-P1");
  EXPECT_EQ(status.ToString(), "field \"site\": \"MAS \" is not the site of the id, \"MAS\"");
}

constexpr int64_t kDayMs = 86'400'000;
// 2023-11-14T22:13:20Z.
constexpr int64_t kNow = 1'700'000'000'000;

TEST(SchemaTest, BirthDatesLieBetween1900AndToday) {
  const CollectionSpec& people = Spec("participants");
  EXPECT_EQ(FieldOf("participants", "birth_date").min.text, "1900-01-01");
  EXPECT_EQ(FieldOf("participants", "birth_date").max.text, "today");
  for (const char* day : {"1900-01-01", "1990-04-12", "2023-11-14"}) {
    EXPECT_TRUE(Check(people, "birth_date", std::string(day), nullptr, kNow).ok()) << day;
  }
  Status status = Check(people, "birth_date", std::string("1899-12-31"), nullptr, kNow);
  EXPECT_EQ(status.ToString(), "field \"birth_date\": \"1899-12-31\" is before 1900-01-01");
  status = Check(people, "birth_date", std::string("2023-11-15"), nullptr, kNow);
  EXPECT_EQ(status.ToString(), "field \"birth_date\": \"2023-11-15\" is after today (2023-11-14)");
  // Without a clock (the hub's merge) only the fixed bound is checked.
  EXPECT_TRUE(Check(people, "birth_date", std::string("2099-01-01")).ok());
  EXPECT_FALSE(Check(people, "birth_date", std::string("1899-12-31")).ok());
}

TEST(SchemaTest, RegistrationIsNotMoreThanADayAheadOfTheClock) {
  const CollectionSpec& people = Spec("participants");
  std::string day_ahead = DateTimeOfMillis(kNow + kDayMs);
  EXPECT_EQ(day_ahead, "2023-11-15T22:13:20Z");
  EXPECT_TRUE(Check(people, "registered_at", day_ahead, nullptr, kNow).ok());
  EXPECT_TRUE(
      Check(people, "registered_at", std::string("2023-11-15T22:13:20.000Z"), nullptr, kNow).ok());
  Status status =
      Check(people, "registered_at", std::string("2023-11-15T22:13:20.001Z"), nullptr, kNow);
  EXPECT_EQ(status.ToString(),
            "field \"registered_at\": \"2023-11-15T22:13:20.001Z\" is after now+1d "
            "(2023-11-15T22:13:20Z)");
  EXPECT_TRUE(Check(people, "registered_at", std::string("2030-01-01T00:00:00Z")).ok());
}

TEST(SchemaTest, DatesConvertToDaysAndMilliseconds) {
  EXPECT_EQ(DayOf("1970-01-01"), 0);
  EXPECT_EQ(DayOf("1900-01-01"), -25567);
  EXPECT_EQ(DateOfDay(-25567), "1900-01-01");
  EXPECT_EQ(DateOfDay(DayOf("2024-02-29")), "2024-02-29");
  EXPECT_EQ(MillisOf("2023-11-14T22:13:20Z"), kNow);
  EXPECT_EQ(MillisOf("2023-11-14T22:13:20.5Z"), kNow + 500);
  EXPECT_EQ(MillisOf("2023-11-14T22:13:20.123456Z"), kNow + 123);
  EXPECT_EQ(DateTimeOfMillis(kNow), "2023-11-14T22:13:20Z");
  EXPECT_EQ(DateTimeOfMillis(-1000), "1969-12-31T23:59:59Z");
}

TEST(SchemaTest, SiteReferencesNameALiveRecordOfTheSameSite) {
  const CollectionSpec& services = Spec("services");
  EXPECT_TRUE(FieldOf("services", "participant_id").site_ref);
  EXPECT_FALSE(FieldOf("services", "service_type").site_ref);
  RefLookup refs = [](std::string_view collection, std::string_view id) {
    if (collection != "participants") return RefState::kNone;
    if (id == "MAS-P1") return RefState::kLive;
    return id == "MAS-P2" ? RefState::kDeleted : RefState::kNone;
  };
  auto check = [&](const char* participant) {
    return Check(services, "participant_id", std::string(participant), &refs, kNow, "MAS-S1")
        .ToString();
  };
  EXPECT_EQ(check("MAS-P1"), "");
  EXPECT_EQ(check("MAS-P9"), "field \"participant_id\": no participants record \"MAS-P9\"");
  EXPECT_EQ(check("MAS-P2"), "field \"participant_id\": participants record \"MAS-P2\" is deleted");
  EXPECT_EQ(check("ANT-P1"),
            "field \"participant_id\": \"ANT-P1\" is not a participants id of site MAS");
  EXPECT_EQ(check("MAS"), "field \"participant_id\": \"MAS\" is not a participants id of site MAS");
  // The site is checked without a lookup too (the hub's merge).
  EXPECT_FALSE(
      Check(services, "participant_id", std::string("ANT-P1"), nullptr, {}, "MAS-S1").ok());
  EXPECT_TRUE(Check(services, "participant_id", std::string("MAS-P9"), nullptr, {}, "MAS-S1").ok());
}

TEST(SchemaTest, ReferrersOfASiteCollectionAreItsSiteRefs) {
  auto names = [](const std::vector<Referrer>& referrers) {
    std::vector<std::string> out;
    for (const Referrer& r : referrers) out.push_back(r.collection + "." + r.field);
    return out;
  };
  EXPECT_EQ(names(DefaultSchema().ReferrersOf("participants")),
            (std::vector<std::string>{"attendance.participant_id", "referrals.participant_id",
                                      "services.participant_id"}));
  EXPECT_EQ(names(DefaultSchema().ReferrersOf("trainings")),
            (std::vector<std::string>{"attendance.training_id"}));
  // Refs to reference data are no site refs: deleting a country is not held up by them.
  EXPECT_TRUE(DefaultSchema().ReferrersOf("countries").empty());
  EXPECT_TRUE(DefaultSchema().ReferrersOf("services").empty());
}

TEST(SchemaTest, CheckFieldLooksUpReferences) {
  CollectionSpec spec = TestSpec();
  std::vector<std::pair<std::string, std::string>> asked;
  RefLookup refs = [&](std::string_view collection, std::string_view id) {
    asked.emplace_back(collection, id);
    return id == "PH" ? RefState::kLive : RefState::kNone;
  };
  EXPECT_TRUE(Check(spec, "country", std::string("PH"), &refs).ok());
  Status status = Check(spec, "country", std::string("XX"), &refs);
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_EQ(status.what(), "no countries record \"XX\"");
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

TEST(SchemaTest, CheckChangeChecksEveryFieldInAnyOrder) {
  std::vector<Field> fields = {{"family_name", std::string("Cruz"), 0},
                               {"given_name", std::string("Ana"), 0},
                               {"sex", std::string("F"), 0}};
  EXPECT_TRUE(DefaultSchema().CheckChange(ChangeOf("participants", "MAS-P1", fields), "MAS").ok());
  std::reverse(fields.begin(), fields.end());
  EXPECT_TRUE(DefaultSchema().CheckChange(ChangeOf("participants", "MAS-P1", fields), "MAS").ok());
  fields.back() = {"family_name", int64_t{7}, 0};  // after "sex", out of order and wrong
  EXPECT_EQ(DefaultSchema().CheckChange(ChangeOf("participants", "MAS-P1", fields), "MAS").where(),
            "participants/MAS-P1: field \"family_name\"");
  fields.back() = {"aardvark", int64_t{7}, 0};
  EXPECT_NE(DefaultSchema()
                .CheckChange(ChangeOf("participants", "MAS-P1", fields), "MAS")
                .what()
                .find("unknown field"),
            std::string::npos);
}

TEST(SchemaTest, CheckChangeChecksStaticRulesButNotTheClock) {
  auto check = [](const char* collection, const char* id, Field field) {
    return DefaultSchema()
        .CheckChange(ChangeOf(collection, id, {std::move(field)}), "MAS")
        .ToString();
  };
  EXPECT_EQ(check("participants", "MAS-P1", {"site", std::string("ANT"), 0}),
            "participants/MAS-P1: field \"site\": \"ANT\" is not the site of the id, \"MAS\"");
  EXPECT_EQ(check("participants", "MAS-P1", {"birth_date", std::string("1899-01-01"), 0}),
            "participants/MAS-P1: field \"birth_date\": \"1899-01-01\" is before 1900-01-01");
  EXPECT_EQ(check("services", "MAS-S1", {"participant_id", std::string("ANT-P1"), 0}),
            "services/MAS-S1: field \"participant_id\": \"ANT-P1\" is not a participants id of "
            "site MAS");
  EXPECT_EQ(check("participants", "MAS-P1", {"given_name", std::string("A\u202eB"), 0}),
            "participants/MAS-P1: field \"given_name\": text holds bidirectional control U+202E "
            "at byte 2");
  // A registration a site wrote when its clock said so is merged whatever the hub's clock says.
  EXPECT_EQ(
      check("participants", "MAS-P1", {"registered_at", std::string("2999-01-01T00:00:00Z"), 0}),
      "");
}

TEST(SchemaTest, CheckMergeRefsRefusesOnlyIdsNeverSeen) {
  RefLookup refs = [](std::string_view, std::string_view id) {
    return id == "MAS-P1" ? RefState::kLive : id == "MAS-P2" ? RefState::kDeleted : RefState::kNone;
  };
  auto service = [](const char* participant) {
    return ChangeOf("services", "MAS-S1",
                    {{"participant_id", std::string(participant), 0},
                     {"service_type", std::string("nowhere"), 0}});
  };
  EXPECT_TRUE(DefaultSchema().CheckMergeRefs(service("MAS-P1"), refs).ok());
  // Deleted centrally while the site wrote: its change is merged.
  EXPECT_TRUE(DefaultSchema().CheckMergeRefs(service("MAS-P2"), refs).ok());
  EXPECT_EQ(DefaultSchema().CheckMergeRefs(service("MAS-P9"), refs).ToString(),
            "services/MAS-S1: field \"participant_id\": no participants record \"MAS-P9\"");
  // Deletes and refs to reference data are not looked up here.
  protocol::Change gone = service("MAS-P9");
  gone.deleted = true;
  EXPECT_TRUE(DefaultSchema().CheckMergeRefs(gone, refs).ok());
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

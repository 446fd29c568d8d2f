// Tests of building the schema from TOML (config/schema_loader.h).
#include "config/schema_loader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace osrc::config {
namespace {

TEST(SchemaLoaderTest, LoadsAMinimalSchema) {
  Schema schema;
  Status status = LoadSchema(R"(
[collections.things]
owner = "site"
[collections.things.fields]
name = { type = "text", required = true }
kind = { type = "enum", values = ["a", "b"] }
)",
                             "test.toml", &schema);
  ASSERT_TRUE(status.ok()) << status.ToString();
  const CollectionSpec* spec = schema.Find("things");
  ASSERT_NE(spec, nullptr);
  EXPECT_EQ(spec->owner, Owner::kSite);
  EXPECT_TRUE(spec->Find("name")->required);
  EXPECT_EQ(spec->Find("kind")->values, (std::vector<std::string>{"a", "b"}));
}

TEST(SchemaLoaderTest, HashFollowsTheText) {
  Schema one, two, three;
  const char* text =
      "[collections.a]\nowner = \"hub\"\n[collections.a.fields]\nx = { type = \"int\" }\n";
  ASSERT_TRUE(LoadSchema(text, "a", &one).ok());
  ASSERT_TRUE(LoadSchema(text, "b", &two).ok());
  ASSERT_TRUE(LoadSchema(std::string(text) + "# comment\n", "c", &three).ok());
  EXPECT_EQ(one.hash(), two.hash());
  EXPECT_NE(one.hash(), three.hash());
}

TEST(SchemaLoaderTest, ErrorsNameWhatIsWrongAndWhere) {
  struct Case {
    const char* toml;
    const char* what;
    const char* where;
  };
  std::vector<Case> cases = {
      {"[collections\n", "", "bad.toml:1"},
      {"x = 1\n", "no [collections]", "bad.toml"},
      {"[collections.a]\nowner = \"nobody\"\n[collections.a.fields]\n", "owner must be",
       "collection a"},
      {"[collections.a]\nowner = \"hub\"\n", "no fields", "collection a"},
      {"[collections.a]\nowner = \"hub\"\n[collections.a.fields]\nx = { type = \"blob\" }\n",
       "unknown type \"blob\"", "field x"},
      {"[collections.a]\nowner = \"hub\"\n[collections.a.fields]\nx = { type = \"enum\" }\n",
       "enum without values", "field x"},
      {"[collections.a]\nowner = \"hub\"\n[collections.a.fields]\nx = { type = \"ref\" }\n",
       "ref without collection", "field x"},
      {"[collections.a]\nowner = \"hub\"\n[collections.a.fields]\n"
       "x = { type = \"ref\", collection = \"b\" }\n",
       "ref to unknown collection b", "a.x"},
      {"[collections.a]\nowner = \"site\"\n[collections.a.fields]\n"
       "x = { type = \"date\", max = \"tomorrow\" }\n",
       "bound \"tomorrow\" is not a date, a datetime, or today/now with an optional +Nd or -Nd",
       "field x: max"},
      {"[collections.a]\nowner = \"site\"\n[collections.a.fields]\n"
       "x = { type = \"date\", min = \"2020-01-01T00:00:00Z\" }\n",
       "is not a date", "field x: min"},
      {"[collections.a]\nowner = \"site\"\n[collections.a.fields]\n"
       "x = { type = \"datetime\", max = \"now+1h\" }\n",
       "is not a date", "field x: max"},
      {"[collections.a]\nowner = \"site\"\n[collections.a.fields]\n"
       "x = { type = \"int\", min = \"1900-01-01\" }\n",
       "min on a field that is not a date or datetime", "field x"},
      {"[collections.a]\nowner = \"site\"\n[collections.a.fields]\n"
       "x = { type = \"text\", equals = \"site\" }\n",
       "equals must be \"id_site\", on a text field", "field x"},
  };
  for (const Case& c : cases) {
    Schema schema;
    Status status = LoadSchema(c.toml, "bad.toml", &schema);
    EXPECT_EQ(status.code(), ErrorCode::kBadInput) << c.toml;
    EXPECT_NE(status.what().find(c.what), std::string::npos) << status.ToString();
    EXPECT_NE(status.where().find(c.where), std::string::npos) << status.ToString();
  }
}

TEST(SchemaLoaderTest, ReadsBoundsEqualsAndWhichRefsAreSiteRefs) {
  Schema schema;
  Status status = LoadSchema(R"(
[collections.people]
owner = "site"
[collections.people.fields]
site = { type = "text", equals = "id_site" }
born = { type = "date", min = "1900-01-01", max = "today" }
seen = { type = "datetime", min = "2020-01-01T00:00:00Z", max = "now+1d" }
back = { type = "date", max = "today-7d" }
country = { type = "ref", collection = "countries" }
[collections.visits]
owner = "site"
[collections.visits.fields]
person = { type = "ref", collection = "people" }
[collections.countries]
owner = "hub"
[collections.countries.fields]
name = { type = "text" }
)",
                             "test.toml", &schema);
  ASSERT_TRUE(status.ok()) << status.ToString();
  const CollectionSpec& people = *schema.Find("people");
  EXPECT_TRUE(people.Find("site")->equals_id_site);
  const FieldSpec& born = *people.Find("born");
  EXPECT_EQ(born.min.text, "1900-01-01");
  EXPECT_TRUE(born.min.day);
  EXPECT_FALSE(born.min.clock);
  EXPECT_EQ(born.min.value, DayOf("1900-01-01"));
  EXPECT_TRUE(born.max.clock);
  EXPECT_TRUE(born.max.day);
  EXPECT_EQ(born.max.value, 0);
  const FieldSpec& seen = *people.Find("seen");
  EXPECT_FALSE(seen.min.day);
  EXPECT_EQ(seen.min.value, MillisOf("2020-01-01T00:00:00Z"));
  EXPECT_FALSE(seen.max.day);
  EXPECT_TRUE(seen.max.clock);
  EXPECT_EQ(seen.max.value, 86'400'000);
  EXPECT_EQ(people.Find("back")->max.value, -7);
  // A ref between site collections is a site ref; one to reference data is not.
  EXPECT_TRUE(schema.Find("visits")->Find("person")->site_ref);
  EXPECT_FALSE(people.Find("country")->site_ref);
  EXPECT_TRUE(schema.IsReferenced("people"));
  EXPECT_FALSE(schema.IsReferenced("countries"));
}

}  // namespace
}  // namespace osrc::config

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
  };
  for (const Case& c : cases) {
    Schema schema;
    Status status = LoadSchema(c.toml, "bad.toml", &schema);
    EXPECT_EQ(status.code(), ErrorCode::kBadInput) << c.toml;
    EXPECT_NE(status.what().find(c.what), std::string::npos) << status.ToString();
    EXPECT_NE(status.where().find(c.where), std::string::npos) << status.ToString();
  }
}

}  // namespace
}  // namespace osrc::config

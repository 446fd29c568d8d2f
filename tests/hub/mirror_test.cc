// Unit tests of the mirror's connection string as shown in logs and the audit trail.
#include "hub/mirror.h"

#include <gtest/gtest.h>

namespace osrc::hub {
namespace {

TEST(ConninfoForDisplayTest, LeavesOutThePasswordOfAKeywordString) {
  std::string shown =
      ConninfoForDisplay("host=db.example dbname=osrc user=analysts password=s3cret");
  EXPECT_EQ(shown.find("s3cret"), std::string::npos) << shown;
  EXPECT_NE(shown.find("host=db.example"), std::string::npos) << shown;
  EXPECT_NE(shown.find("user=analysts"), std::string::npos) << shown;
}

TEST(ConninfoForDisplayTest, LeavesOutThePasswordOfAUri) {
  std::string shown = ConninfoForDisplay("postgresql://analysts:s3cret@db.example:5433/osrc");
  EXPECT_EQ(shown.find("s3cret"), std::string::npos) << shown;
  EXPECT_NE(shown.find("port=5433"), std::string::npos) << shown;
  EXPECT_NE(shown.find("dbname=osrc"), std::string::npos) << shown;
}

TEST(ConninfoForDisplayTest, SaysSoWhenItCannotParseAndShowsNothingOfIt) {
  std::string shown = ConninfoForDisplay("host='unterminated password=s3cret");
  EXPECT_EQ(shown, "(unparsable conninfo)");
}

}  // namespace
}  // namespace osrc::hub

// Tests of hub/operators.h: operators are stored with a password hash (never the password),
// verified by name and password with their role, refused when malformed, and removed.
#include "hub/operators.h"

#include <gtest/gtest.h>

#include "base/text.h"
#include "tests/support/temp_dir.h"

namespace osrc::hub {
namespace {

std::string ReadAll(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return {};
  std::string text;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0;) text.append(buffer, n);
  std::fclose(file);
  return text;
}

TEST(Operators, AddedOperatorsVerifyWithTheirRoleOnlyWithTheirPassword) {
  testing::TempDir dir("osrc-operators");
  ASSERT_TRUE(AddOperator(dir.path(), "ana", Role::kAdmin, "correct horse", 1000).ok());
  ASSERT_TRUE(AddOperator(dir.path(), "ben", Role::kViewer, "battery staple", 2000).ok());

  Role role = Role::kViewer;
  EXPECT_TRUE(VerifyOperator(dir.path(), "ana", "correct horse", &role));
  EXPECT_EQ(role, Role::kAdmin);
  EXPECT_TRUE(VerifyOperator(dir.path(), "ben", "battery staple", &role));
  EXPECT_EQ(role, Role::kViewer);
  EXPECT_FALSE(VerifyOperator(dir.path(), "ana", "battery staple", &role));
  EXPECT_FALSE(VerifyOperator(dir.path(), "ana", "correct hors", &role));
  EXPECT_FALSE(VerifyOperator(dir.path(), "carl", "correct horse", &role));

  std::vector<Operator> operators;
  ASSERT_TRUE(ReadOperators(dir.path(), &operators).ok());
  ASSERT_EQ(operators.size(), 2u);
  EXPECT_EQ(operators[0].name, "ana");
  EXPECT_EQ(operators[0].created_ms, 1000u);
  EXPECT_EQ(operators[0].hash.rfind("$argon2id$", 0), 0u) << operators[0].hash;
  // The file holds hashes, never a password.
  std::string text = ReadAll(dir.Path("operators.json"));
  EXPECT_EQ(text.find("correct horse"), std::string::npos) << text;
  EXPECT_EQ(text.find("battery staple"), std::string::npos) << text;
}

TEST(Operators, RefusesShortPasswordsBadNamesAndTakenNames) {
  testing::TempDir dir("osrc-operators");
  Status short_password = AddOperator(dir.path(), "ana", Role::kAdmin, "short", 1);
  EXPECT_EQ(short_password.code(), ErrorCode::kBadInput);
  EXPECT_NE(short_password.ToString().find("too short"), std::string::npos)
      << short_password.ToString();
  EXPECT_EQ(AddOperator(dir.path(), "ana", Role::kAdmin, "", 1).code(), ErrorCode::kBadInput);
  EXPECT_EQ(AddOperator(dir.path(), "a b", Role::kAdmin, "long enough pw", 1).code(),
            ErrorCode::kBadInput);
  ASSERT_TRUE(AddOperator(dir.path(), "ana", Role::kAdmin, "long enough pw", 1).ok());
  EXPECT_EQ(AddOperator(dir.path(), "ana", Role::kViewer, "another one pw", 1).code(),
            ErrorCode::kBadInput);
  std::vector<Operator> operators;
  ASSERT_TRUE(ReadOperators(dir.path(), &operators).ok());
  EXPECT_EQ(operators.size(), 1u);
  Role role;
  EXPECT_EQ(ParseRole("root", &role).code(), ErrorCode::kBadInput);
}

TEST(Operators, RemovedOperatorNoLongerVerifies) {
  testing::TempDir dir("osrc-operators");
  ASSERT_TRUE(AddOperator(dir.path(), "ana", Role::kAdmin, "correct horse", 1).ok());
  ASSERT_TRUE(RemoveOperator(dir.path(), "ana").ok());
  Role role;
  EXPECT_FALSE(VerifyOperator(dir.path(), "ana", "correct horse", &role));
  EXPECT_EQ(RemoveOperator(dir.path(), "ana").code(), ErrorCode::kNotFound);
}

TEST(Operators, MalformedFileIsAnErrorNamingIt) {
  testing::TempDir dir("osrc-operators");
  std::FILE* file = std::fopen(dir.Path("operators.json").c_str(), "wb");
  std::fputs("[{\"name\":", file);
  std::fclose(file);
  std::vector<Operator> operators;
  Status status = ReadOperators(dir.path(), &operators);
  EXPECT_EQ(status.code(), ErrorCode::kCorruption);
  EXPECT_NE(status.ToString().find("operators.json"), std::string::npos) << status.ToString();
  Role role;
  EXPECT_FALSE(VerifyOperator(dir.path(), "ana", "anything long", &role));
}

}  // namespace
}  // namespace osrc::hub

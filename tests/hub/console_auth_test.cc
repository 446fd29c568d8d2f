// Tests of hub/console_auth.h: sessions expire when idle, tokens are random and compared whole,
// the login delay doubles per failure up to its cap and resets on success, only admins change.
#include "hub/console_auth.h"

#include <gtest/gtest.h>

#include <set>

namespace osrc::hub {
namespace {

constexpr ConsoleAuthOptions kOptions{.idle_ms = 1000, .base_delay_ms = 250, .max_delay_ms = 8000};

TEST(ConsoleAuthTest, SessionFoundUntilIdleTooLongAndIdleTimeRestartsOnUse) {
  ConsoleAuth auth(kOptions);
  ConsoleSession session = auth.LoginSucceeded("alice", Role::kAdmin, 10'000);
  ASSERT_EQ(session.id.size(), 64u);
  ASSERT_EQ(session.csrf.size(), 64u);
  EXPECT_NE(session.id, session.csrf);
  auto found = auth.Find(session.id, 10'900);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->name, "alice");
  EXPECT_EQ(found->role, Role::kAdmin);
  EXPECT_EQ(found->csrf, session.csrf);
  EXPECT_TRUE(auth.Find(session.id, 11'800));   // 900 ms after its last use
  EXPECT_FALSE(auth.Find(session.id, 12'800));  // 1000 ms idle: gone
  EXPECT_FALSE(auth.Find(session.id, 12'801));
}

TEST(ConsoleAuthTest, UnknownLoggedOutAndRemovedOperatorsSessionsAreNotFound) {
  ConsoleAuth auth(kOptions);
  ConsoleSession a = auth.LoginSucceeded("alice", Role::kAdmin, 0);
  ConsoleSession b = auth.LoginSucceeded("bob", Role::kViewer, 0);
  EXPECT_FALSE(auth.Find("", 1));
  std::string other = a.id;
  other.back() = other.back() == '0' ? '1' : '0';
  EXPECT_FALSE(auth.Find(other, 1));
  auth.Logout(a.id);
  EXPECT_FALSE(auth.Find(a.id, 1));
  EXPECT_TRUE(auth.Find(b.id, 1));
  auth.EndSessionsOf("bob");
  EXPECT_FALSE(auth.Find(b.id, 1));
}

TEST(ConsoleAuthTest, TokensAreDistinctHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string token = RandomToken();
    ASSERT_EQ(token.size(), 64u);
    EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos) << token;
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(ConsoleAuthTest, CsrfComparisonNeedsTheWholeToken) {
  std::string token = RandomToken();
  EXPECT_TRUE(TokensEqual(token, token));
  EXPECT_FALSE(TokensEqual(token, ""));
  EXPECT_FALSE(TokensEqual("", ""));  // a session never has an empty token: refuse
  EXPECT_FALSE(TokensEqual(token, token.substr(0, 63)));
  std::string changed = token;
  changed.back() = changed.back() == '0' ? '1' : '0';
  EXPECT_FALSE(TokensEqual(token, changed));
}

TEST(ConsoleAuthTest, DelayDoublesPerFailureUpToTheCapAndResetsOnSuccess) {
  ConsoleAuth auth(kOptions);
  EXPECT_EQ(auth.DelayFor("alice"), 0u);
  std::vector<uint64_t> delays;
  for (int i = 0; i < 8; ++i) {
    auth.LoginFailed("alice");
    delays.push_back(auth.DelayFor("alice"));
  }
  EXPECT_EQ(delays, (std::vector<uint64_t>{250, 500, 1000, 2000, 4000, 8000, 8000, 8000}));
  EXPECT_EQ(auth.DelayFor("bob"), 0u);  // per name
  for (int i = 0; i < 100; ++i) auth.LoginFailed("alice");
  EXPECT_EQ(auth.DelayFor("alice"), 8000u);  // no overflow past the cap
  auth.LoginSucceeded("alice", Role::kViewer, 0);
  EXPECT_EQ(auth.DelayFor("alice"), 0u);
}

TEST(ConsoleAuthTest, FailedNamesAreBoundedWithoutForgettingOneStillTried) {
  ConsoleAuth auth(kOptions);
  auth.LoginFailed("~target");  // sorts after the made-up names below
  for (size_t i = 0; i < kMaxFailedNames + 10; ++i) auth.LoginFailed("name" + std::to_string(i));
  auth.LoginFailed("~target");
  EXPECT_EQ(auth.DelayFor("~target"), 500u);
  EXPECT_EQ(auth.DelayFor("name0"), 0u);  // forgotten: the table stayed bounded
  EXPECT_EQ(auth.DelayFor("name" + std::to_string(kMaxFailedNames + 9)), 250u);
}

TEST(ConsoleAuthTest, CookieIsHttpOnlyStrictWholeSiteAndExpiring) {
  std::string cookie = SessionCookie("abc", 8 * 3600 * 1000);
  EXPECT_EQ(cookie, "osrc_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=28800");
}

TEST(ConsoleAuthTest, CookieValueFindsTheNamedCookieOnly) {
  EXPECT_EQ(CookieValue("a=1; osrc_session=xyz; b=2", "osrc_session"), "xyz");
  EXPECT_EQ(CookieValue("osrc_session=xyz", "osrc_session"), "xyz");
  EXPECT_EQ(CookieValue("x_osrc_session=evil; b=2", "osrc_session"), "");
  EXPECT_EQ(CookieValue("", "osrc_session"), "");
}

TEST(ConsoleAuthTest, OnlyAdminsMayChange) {
  EXPECT_TRUE(MayChange(Role::kAdmin));
  EXPECT_FALSE(MayChange(Role::kViewer));
}

}  // namespace
}  // namespace osrc::hub

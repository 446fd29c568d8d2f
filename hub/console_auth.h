// The console's sessions and logins: random session ids (32 bytes from libsodium, hex) with a
// CSRF token each, expiring after an idle time; a delay per operator name that doubles with each
// failed login; what each role may do. The clock is passed in, so tests control time.
// Thread-safe: the console's request threads share one ConsoleAuth.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "hub/operators.h"

namespace osrc::hub {

inline constexpr std::string_view kSessionCookie = "osrc_session";
// The login form's CSRF token, before there is a session: a cookie the form repeats.
inline constexpr std::string_view kLoginCookie = "osrc_login";
// Names whose failed logins are remembered at once; beyond that the first in order is forgotten.
inline constexpr size_t kMaxFailedNames = 10000;

struct ConsoleSession {
  std::string id;    // 64 hex digits: the cookie's value
  std::string csrf;  // 64 hex digits: the hidden field of every form
  std::string name;
  Role role = Role::kViewer;
  uint64_t last_seen_ms = 0;
};

struct ConsoleAuthOptions {
  uint64_t idle_ms = 8 * 3600 * 1000;  // Default: a session ends after 8 hours unused
  uint64_t base_delay_ms = 250;        // Default: the first failure costs 250 ms
  uint64_t max_delay_ms = 8000;        // Default: no login waits longer than 8 s
};

class ConsoleAuth {
 public:
  explicit ConsoleAuth(ConsoleAuthOptions options = {}) : options_(options) {}

  // How long a login for `name` waits before its password is checked: 0 before any failure,
  // then base * 2^(failures-1), capped at max.
  uint64_t DelayFor(const std::string& name) const;
  void LoginFailed(const std::string& name);
  // A new session for an operator whose password checked; clears the name's failures.
  ConsoleSession LoginSucceeded(const std::string& name, Role role, uint64_t now_ms);
  // The live session of `id`, its idle time restarted; none if unknown or expired.
  std::optional<ConsoleSession> Find(std::string_view id, uint64_t now_ms);
  void Logout(std::string_view id);
  // Ends every session of `name` (an operator removed).
  void EndSessionsOf(const std::string& name);

 private:
  ConsoleAuthOptions options_;
  mutable std::mutex mutex_;
  std::map<std::string, ConsoleSession, std::less<>> sessions_;
  std::map<std::string, uint32_t> failures_;
};

// 32 random bytes (libsodium) as 64 hex digits.
std::string RandomToken();
// Equal strings, compared in time independent of where they differ (sodium_memcmp).
bool TokensEqual(std::string_view a, std::string_view b);
// The value of cookie `name` in a Cookie header ("a=1; osrc_session=..."), empty if absent.
std::string CookieValue(std::string_view header, std::string_view name);
// The Set-Cookie value of a session: HttpOnly, SameSite=Strict, Path=/, Max-Age of the idle time.
std::string SessionCookie(const std::string& id, uint64_t idle_ms);
// The Set-Cookie value carrying a login form's token (for /login only, 10 minutes).
std::string LoginCookie(const std::string& token);
// Resolving conflicts, importing reference data, managing operators and reading personal values.
bool MayChange(Role role);

}  // namespace osrc::hub

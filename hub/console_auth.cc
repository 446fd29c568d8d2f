#include "hub/console_auth.h"

#include <sodium.h>

#include <algorithm>

namespace osrc::hub {

uint64_t ConsoleAuth::DelayFor(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(name);
  if (it == failures_.end() || it->second == 0) return 0;
  uint32_t doublings = std::min<uint32_t>(it->second - 1, 30);
  return std::min(options_.base_delay_ms << doublings, options_.max_delay_ms);
}

void ConsoleAuth::LoginFailed(const std::string& name) {
  std::lock_guard lock(mutex_);
  // Names tried are bounded, so a flood of made-up names cannot grow the table without end.
  if (!failures_.contains(name) && failures_.size() >= kMaxFailedNames) {
    failures_.erase(failures_.begin());
  }
  ++failures_[name];
}

ConsoleSession ConsoleAuth::LoginSucceeded(const std::string& name, Role role, uint64_t now_ms) {
  ConsoleSession session{RandomToken(), RandomToken(), name, role, now_ms};
  std::lock_guard lock(mutex_);
  failures_.erase(name);
  // Forget expired sessions here, so the table does not grow with abandoned logins.
  std::erase_if(sessions_, [&](const auto& entry) {
    return entry.second.last_seen_ms + options_.idle_ms <= now_ms;
  });
  sessions_[session.id] = session;
  return session;
}

std::optional<ConsoleSession> ConsoleAuth::Find(std::string_view id, uint64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.last_seen_ms + options_.idle_ms <= now_ms) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_seen_ms = std::max(it->second.last_seen_ms, now_ms);
  return it->second;
}

void ConsoleAuth::Logout(std::string_view id) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it != sessions_.end()) sessions_.erase(it);
}

void ConsoleAuth::EndSessionsOf(const std::string& name) {
  std::lock_guard lock(mutex_);
  std::erase_if(sessions_, [&](const auto& entry) { return entry.second.name == name; });
}

std::string RandomToken() {
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char hex[2 * sizeof bytes + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

bool TokensEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t end = header.find(';');
    std::string_view pair = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view{} : header.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return std::string(pair.substr(eq + 1));
    }
  }
  return {};
}

std::string SessionCookie(const std::string& id, uint64_t idle_ms) {
  return std::string(kSessionCookie) + "=" + id +
         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(idle_ms / 1000);
}

std::string LoginCookie(const std::string& token) {
  return std::string(kLoginCookie) + "=" + token +
         "; Path=/login; HttpOnly; SameSite=Strict; Max-Age=600";
}

bool MayChange(Role role) { return role == Role::kAdmin; }

}  // namespace osrc::hub

// Small text renderings shared by status reports: hex of bytes, UTC time of milliseconds.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace osrc {

inline std::string HexOf(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// "2026-11-28T20:11:12Z", or "never" for 0.
inline std::string UtcTimeOf(uint64_t ms) {
  if (ms == 0) return "never";
  time_t seconds = static_cast<time_t>(ms / 1000);
  char text[32];
  struct tm tm;
  gmtime_r(&seconds, &tm);
  strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace osrc

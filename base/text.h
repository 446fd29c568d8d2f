// Small text renderings shared by status reports: hex of bytes, UTC time of milliseconds, store
// use.
#pragma once

#include <cstddef>
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

// Whether a store's pages fill 80% or more of its map.
inline bool StoreNearlyFull(size_t used_bytes, size_t map_bytes) {
  return map_bytes != 0 && used_bytes * 10 >= map_bytes * 8;
}

// "3 MiB of 1024 MiB (0%)", with a warning once the store is nearly full.
inline std::string StoreUseOf(size_t used_bytes, size_t map_bytes) {
  int percent = map_bytes ? static_cast<int>(100.0 * used_bytes / map_bytes) : 0;
  return std::to_string(used_bytes >> 20) + " MiB of " + std::to_string(map_bytes >> 20) +
         " MiB (" + std::to_string(percent) + "%)" +
         (StoreNearlyFull(used_bytes, map_bytes) ? "  WARNING: store over 80% full" : "");
}

}  // namespace osrc

// Small text helpers: renderings shared by status reports (hex of bytes, UTC time of
// milliseconds, store use), words quoted for the shell, and the shape of a CURVE key in Z85 text.
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

// `word` as one shell word: as it is when plain, else in single quotes (a Z85 key may hold $ & *).
inline std::string ShellQuoted(std::string_view word) {
  bool plain = !word.empty();
  for (char c : word) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                std::string_view("_-./:@%+=,").find(c) != std::string_view::npos;
    plain = plain && safe;
  }
  if (plain) return std::string(word);
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Whether `key` is 40 characters of Z85 text that decode to a 32-byte key (each group of five
// characters to a value below 2^32), as libzmq's zmq_z85_decode accepts.
inline bool IsZ85Key(std::string_view key) {
  static constexpr std::string_view kAlphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  if (key.size() != 40) return false;
  for (size_t group = 0; group < key.size(); group += 5) {
    uint64_t value = 0;
    for (size_t i = group; i < group + 5; ++i) {
      size_t digit = kAlphabet.find(key[i]);
      if (digit == std::string_view::npos) return false;
      value = value * 85 + digit;
    }
    if (value > 0xffffffffu) return false;
  }
  return true;
}

}  // namespace osrc

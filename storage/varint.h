// Little-endian base-128 varints and length-prefixed strings for storage encodings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace osrc::storage {

inline void AppendVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

inline bool ReadVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    auto byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    result |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

inline void AppendString(std::string* out, std::string_view s) {
  AppendVarint(out, s.size());
  out->append(s);
}

inline bool ReadString(std::string_view* in, std::string* s) {
  uint64_t size = 0;
  if (!ReadVarint(in, &size) || size > in->size()) return false;
  s->assign(in->substr(0, size));
  in->remove_prefix(size);
  return true;
}

// As ReadString, pointing into `in` instead of copying.
inline bool ReadStringView(std::string_view* in, std::string_view* s) {
  uint64_t size = 0;
  if (!ReadVarint(in, &size) || size > in->size()) return false;
  *s = in->substr(0, size);
  in->remove_prefix(size);
  return true;
}

// Big-endian fixed 64-bit, so keys sort numerically under LMDB's lexical order.
inline void AppendBigEndian64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

inline uint64_t ReadBigEndian64(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < in.size(); ++i) v = v << 8 | static_cast<uint8_t>(in[i]);
  return v;
}

}  // namespace osrc::storage

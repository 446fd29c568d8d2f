// Readable gtest output for storage values (found by argument-dependent lookup).
#pragma once

#include <ostream>
#include <sstream>
#include <string>
#include <variant>

#include "protocol/change.h"
#include "storage/record_state.h"

namespace osrc::storage {

inline std::string ValueText(const Value& value) {
  std::ostringstream out;
  switch (value.index()) {
    case 0:
      out << "null";
      break;
    case 1:
      out << (std::get<bool>(value) ? "true" : "false");
      break;
    case 2:
      out << std::get<int64_t>(value);
      break;
    case 3:
      out << std::get<double>(value);
      break;
    case 4:
      out << '"' << std::get<std::string>(value) << '"';
      break;
  }
  return out.str();
}

inline void PrintTo(const Base& b, std::ostream* out) {
  *out << (b.origin.empty() ? "?" : b.origin) << "@" << b.stamp;
}

inline void PrintTo(const Version& v, std::ostream* out) {
  *out << v.origin << "@" << v.stamp << "(base ";
  PrintTo(v.base, out);
  *out << ")";
}

inline void PrintTo(const RecordState& state, std::ostream* out) {
  *out << "{tomb=";
  if (state.tombstone) {
    PrintTo(*state.tombstone, out);
  } else {
    *out << "none";
  }
  for (const auto& [name, field] : state.fields) {
    *out << " " << name << "=" << ValueText(field.value) << " ";
    PrintTo(field.version, out);
  }
  *out << "}";
}

}  // namespace osrc::storage

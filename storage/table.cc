#include "storage/table.h"

#include <algorithm>

namespace osrc::storage {

void Table::Scan(const Txn& txn, std::string_view prefix, std::string_view from,
                 const Visit& visit) const {
  Cursor cursor(txn, dbi_);
  for (bool more = cursor.Seek(std::max(prefix, from)); more; more = cursor.Next()) {
    std::string_view key = cursor.key();
    if (key.substr(0, prefix.size()) != prefix || !visit(key, cursor.value())) return;
  }
}

std::optional<std::string> Table::LastKey(const Txn& txn, std::string_view prefix) const {
  // The first key after every key with `prefix`: the prefix with its last byte below 0xff
  // raised by one, the 0xff bytes after it dropped.
  std::string after(prefix);
  while (!after.empty() && static_cast<unsigned char>(after.back()) == 0xff) after.pop_back();
  if (!after.empty()) after.back() = static_cast<char>(after.back() + 1);
  Cursor cursor(txn, dbi_);
  bool found = after.empty() ? cursor.Last() : cursor.Seek(after) ? cursor.Prev() : cursor.Last();
  if (!found || cursor.key().substr(0, prefix.size()) != prefix) return std::nullopt;
  return std::string(cursor.key());
}

}  // namespace osrc::storage

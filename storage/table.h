// Table: one named database of a store whose layout belongs to its user (the hub's enrolments
// and delivery index, a node's returns): point reads and writes, and scans over a key prefix.
// Keys and values are bytes; the user writes their grammar where it encodes them. A view read
// lives until its transaction ends or the next write in it (env.h). Thread-safe as Env is.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "storage/env.h"

namespace osrc::storage {

class Table {
 public:
  explicit Table(Dbi dbi) : dbi_(dbi) {}

  std::optional<std::string_view> Get(const Txn& txn, std::string_view key) const {
    return txn.Get(dbi_, key);
  }
  void Put(WriteTxn& txn, std::string_view key, std::string_view value) const {
    txn.Put(dbi_, key, value);
  }
  // False if the key was absent.
  bool Delete(WriteTxn& txn, std::string_view key) const { return txn.Del(dbi_, key); }
  size_t Count(const Txn& txn) const { return txn.Count(dbi_); }

  using Visit = std::function<bool(std::string_view key, std::string_view value)>;
  // Calls `visit` in key order for each entry whose key starts with `prefix` and is not below
  // `from`, until it returns false. REQUIRES: no write to this table from `visit`.
  void Scan(const Txn& txn, std::string_view prefix, std::string_view from,
            const Visit& visit) const;
  void Scan(const Txn& txn, std::string_view prefix, const Visit& visit) const {
    Scan(txn, prefix, prefix, visit);
  }
  // The highest key that starts with `prefix`, if any.
  std::optional<std::string> LastKey(const Txn& txn, std::string_view prefix) const;

 private:
  Dbi dbi_;
};

}  // namespace osrc::storage

// The hub's operators: who may log in to the console and read /metrics. Kept in
// `<dir>/operators.json`, a JSON array of {name, role, hash, created}, rewritten whole and
// durably (replica::WriteFileDurably) under a lock on `<dir>/operators.lock`, so a reader sees the
// old list or the new one. A file rather than a store table: a few entries, read by the console
// without a write transaction on the store, and no change to the store's layout. `hash` is a
// libsodium crypto_pwhash_str string (Argon2id, INTERACTIVE limits): never the password.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace osrc::hub {

inline constexpr std::string_view kOperatorsFile = "operators.json";
inline constexpr size_t kMinPasswordLength = 10;

enum class Role { kViewer, kAdmin };
std::string_view RoleName(Role role);
// "viewer" or "admin"; an error naming the word otherwise.
Status ParseRole(std::string_view word, Role* role);

struct Operator {
  std::string name;
  Role role = Role::kViewer;
  std::string hash;
  uint64_t created_ms = 0;
};

// Reads the operators of `dir` (none when the file is absent); an error names a malformed file.
Status ReadOperators(const std::string& dir, std::vector<Operator>* out);
// Checks a new operator's name and password, as AddOperator does first.
Status CheckNewOperator(const std::string& name, std::string_view password);
// Adds an operator; refuses a name taken, a name not [A-Za-z0-9._-]{1,64}, or a password shorter
// than kMinPasswordLength.
Status AddOperator(const std::string& dir, const std::string& name, Role role,
                   std::string_view password, uint64_t now_ms);
// Removes an operator; kNotFound if absent.
Status RemoveOperator(const std::string& dir, const std::string& name);
// Whether `password` is `name`'s (crypto_pwhash_str_verify); sets `*role` when it is. An unknown
// name costs a hash computation too, so timing does not tell names apart.
bool VerifyOperator(const std::string& dir, const std::string& name, std::string_view password,
                    Role* role);

}  // namespace osrc::hub

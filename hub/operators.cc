#include "hub/operators.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "replica/data_folder.h"

namespace osrc::hub {
namespace {

std::string OperatorsPathOf(const std::string& dir) {
  return dir + "/" + std::string(kOperatorsFile);
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

// Holds an exclusive lock on `<dir>/operators.lock` while alive.
class OperatorsLock {
 public:
  explicit OperatorsLock(const std::string& dir)
      : fd_(::open((dir + "/operators.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {}
  ~OperatorsLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  OperatorsLock(const OperatorsLock&) = delete;
  OperatorsLock& operator=(const OperatorsLock&) = delete;
  bool Acquire() { return fd_ >= 0 && ::flock(fd_, LOCK_EX) == 0; }

 private:
  int fd_;
};

Status WriteOperators(const std::string& dir, const std::vector<Operator>& operators) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Operator& op : operators) {
    list.push_back({{"name", op.name},
                    {"role", RoleName(op.role)},
                    {"hash", op.hash},
                    {"created", op.created_ms}});
  }
  return replica::WriteFileDurably(dir, kOperatorsFile, list.dump(2) + "\n");
}

Status Sodium() {
  if (sodium_init() < 0) return {ErrorCode::kInternal, "libsodium failed to initialise"};
  return {};
}

}  // namespace

std::string_view RoleName(Role role) { return role == Role::kAdmin ? "admin" : "viewer"; }

Status ParseRole(std::string_view word, Role* role) {
  if (word == "viewer") {
    *role = Role::kViewer;
  } else if (word == "admin") {
    *role = Role::kAdmin;
  } else {
    return {ErrorCode::kBadInput, "expected viewer or admin, got \"" + std::string(word) + "\"",
            "role"};
  }
  return {};
}

Status ReadOperators(const std::string& dir, std::vector<Operator>* out) {
  out->clear();
  std::string path = OperatorsPathOf(dir);
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  try {
    nlohmann::json list = nlohmann::json::parse(text.str());
    if (!list.is_array()) return {ErrorCode::kCorruption, "not a JSON array", path};
    for (const nlohmann::json& entry : list) {
      Operator op;
      op.name = entry.at("name").get<std::string>();
      OSRC_RETURN_IF_ERROR(
          ParseRole(entry.at("role").get<std::string>(), &op.role).WithContext(path));
      op.hash = entry.at("hash").get<std::string>();
      op.created_ms = entry.at("created").get<uint64_t>();
      out->push_back(std::move(op));
    }
  } catch (const nlohmann::json::exception& e) {
    return {ErrorCode::kCorruption, std::string("malformed operators file: ") + e.what(), path};
  }
  return {};
}

Status CheckNewOperator(const std::string& name, std::string_view password) {
  if (!ValidName(name)) {
    return {ErrorCode::kBadInput, "an operator name is 1 to 64 letters, digits, '.', '_' or '-'",
            "operator \"" + name + "\""};
  }
  if (password.size() < kMinPasswordLength) {
    return {ErrorCode::kBadInput,
            "password too short: at least " + std::to_string(kMinPasswordLength) + " characters",
            "operator " + name};
  }
  if (password.size() > 4096) {
    return {ErrorCode::kBadInput, "password too long (over 4096 bytes)", "operator " + name};
  }
  return {};
}

Status AddOperator(const std::string& dir, const std::string& name, Role role,
                   std::string_view password, uint64_t now_ms) {
  OSRC_RETURN_IF_ERROR(Sodium());
  OSRC_RETURN_IF_ERROR(CheckNewOperator(name, password));
  OperatorsLock lock(dir);
  if (!lock.Acquire())
    return {ErrorCode::kIo, "cannot lock the operators file", OperatorsPathOf(dir)};
  std::vector<Operator> operators;
  OSRC_RETURN_IF_ERROR(ReadOperators(dir, &operators));
  for (const Operator& op : operators) {
    if (op.name == name) {
      return {ErrorCode::kBadInput, "exists already (operator remove it first)",
              "operator " + name};
    }
  }
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return {ErrorCode::kInternal, "out of memory hashing the password", "operator " + name};
  }
  operators.push_back({name, role, hash, now_ms});
  return WriteOperators(dir, operators);
}

Status RemoveOperator(const std::string& dir, const std::string& name) {
  OperatorsLock lock(dir);
  if (!lock.Acquire())
    return {ErrorCode::kIo, "cannot lock the operators file", OperatorsPathOf(dir)};
  std::vector<Operator> operators;
  OSRC_RETURN_IF_ERROR(ReadOperators(dir, &operators));
  size_t before = operators.size();
  std::erase_if(operators, [&](const Operator& op) { return op.name == name; });
  if (operators.size() == before) {
    return {ErrorCode::kNotFound, "no such operator (operator list shows them)",
            "operator " + name};
  }
  return WriteOperators(dir, operators);
}

bool VerifyOperator(const std::string& dir, const std::string& name, std::string_view password,
                    Role* role) {
  if (!Sodium().ok()) return false;
  std::vector<Operator> operators;
  if (!ReadOperators(dir, &operators).ok()) return false;
  const Operator* found = nullptr;
  for (const Operator& op : operators) {
    if (op.name == name) found = &op;
  }
  if (found == nullptr) {
    // As costly as a real check, so that a probe cannot tell which names exist.
    char dummy[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(dummy, password.data(), password.size(),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
      return false;
    }
    return false;
  }
  if (crypto_pwhash_str_verify(found->hash.c_str(), password.data(), password.size()) != 0) {
    return false;
  }
  *role = found->role;
  return true;
}

}  // namespace osrc::hub

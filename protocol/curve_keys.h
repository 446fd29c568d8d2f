// CurveZMQ key pairs (Z85 text) and their files in a data folder: the secret key file is
// readable by its owner only. Thread-safe.
#pragma once

#include <string>

#include "base/error.h"

namespace osrc::protocol {

struct KeyPair {
  std::string public_key;  // 40 Z85 characters
  std::string secret_key;
};

KeyPair GenerateKeyPair();
bool IsZ85Key(const std::string& key);
// Writes `<dir>/<name>.key` (secret, 0600) and `<dir>/<name>.pub`.
Status WriteKeyPair(const std::string& dir, const std::string& name, const KeyPair& keys);
Status ReadKeyPair(const std::string& dir, const std::string& name, KeyPair* out);
// Raw 32-byte key from Z85.
std::string DecodeZ85Key(const std::string& z85);

}  // namespace osrc::protocol

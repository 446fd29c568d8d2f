#include "protocol/seal.h"

#include <sodium.h>

#include "base/error.h"
#include "protocol/curve_keys.h"

namespace osrc::protocol {
namespace {

constexpr std::string_view kContext = "osrc-sync hub change seal 1";

const uint8_t* Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

}  // namespace

Sealer::Sealer(const std::string& secret_key) : key_(crypto_auth_KEYBYTES, '\0') {
  static_assert(kSealBytes <= crypto_auth_BYTES);
  if (sodium_init() < 0) throw Error(ErrorCode::kInternal, "libsodium failed to initialise");
  std::string secret = DecodeZ85Key(secret_key);
  crypto_generichash(reinterpret_cast<uint8_t*>(key_.data()), key_.size(), Bytes(kContext),
                     kContext.size(), Bytes(secret), secret.size());
  sodium_memzero(secret.data(), secret.size());
}

std::string Sealer::Seal(std::string_view bytes) const {
  uint8_t mac[crypto_auth_BYTES];
  crypto_auth(mac, Bytes(bytes), bytes.size(), Bytes(key_));
  return std::string(reinterpret_cast<const char*>(mac), kSealBytes);
}

bool Sealer::Verify(std::string_view bytes, std::string_view seal) const {
  if (seal.size() != kSealBytes) return false;
  std::string expected = Seal(bytes);
  return crypto_verify_16(Bytes(expected), Bytes(seal)) == 0;
}

}  // namespace osrc::protocol

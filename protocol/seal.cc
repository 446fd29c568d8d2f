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
  static_assert(kSealBytes == crypto_auth_BYTES);
  if (sodium_init() < 0) throw Error(ErrorCode::kInternal, "libsodium failed to initialise");
  std::string secret = DecodeZ85Key(secret_key);
  crypto_generichash(reinterpret_cast<uint8_t*>(key_.data()), key_.size(), Bytes(kContext),
                     kContext.size(), Bytes(secret), secret.size());
  sodium_memzero(secret.data(), secret.size());
}

std::string Sealer::Seal(std::string_view bytes) const {
  std::string seal(kSealBytes, '\0');
  crypto_auth(reinterpret_cast<uint8_t*>(seal.data()), Bytes(bytes), bytes.size(), Bytes(key_));
  return seal;
}

bool Sealer::Verify(std::string_view bytes, std::string_view seal) const {
  return seal.size() == kSealBytes &&
         crypto_auth_verify(Bytes(seal), Bytes(bytes), bytes.size(), Bytes(key_)) == 0;
}

}  // namespace osrc::protocol

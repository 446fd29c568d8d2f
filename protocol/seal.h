// The hub's seal over its own change bytes: an HMAC (libsodium crypto_auth, HMAC-SHA-512-256,
// truncated to 128 bits: one goes with every delivered change) under a key derived from the
// hub's secret key. A site keeps delivered changes with their seals; a hub restored
// from a backup takes them back only if the seal proves it wrote them. Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace osrc::protocol {

inline constexpr size_t kSealBytes = 16;

class Sealer {
 public:
  // `secret_key`: the hub's CURVE secret key (Z85).
  explicit Sealer(const std::string& secret_key);
  std::string Seal(std::string_view bytes) const;
  bool Verify(std::string_view bytes, std::string_view seal) const;

 private:
  std::string key_;
};

}  // namespace osrc::protocol

// Bundle files: the sync messages for a site without a link, sealed with libsodium crypto_box
// (the sender's CURVE secret key to the recipient's public key: CurveZMQ keys are X25519 keys).
// File grammar:  "OSRCBND1" kind:u8 (1 site->hub, 2 hub->site) sender_public_key[32] nonce[24]
//                crypto_box_easy(Bundle message)
// Any change to any byte makes Open fail: a bundle is accepted whole or not at all. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "protocol/curve_keys.h"

namespace osrc::protocol {

struct BundleContent {
  std::string site;
  uint64_t seq = 0;
  bool reply = false;
  uint64_t created_ms = 0;
  std::vector<std::string> messages;  // encoded Message frames
};

inline constexpr size_t kMaxBundleBytes = size_t{1} << 30;

// Seals `content` from `sender` to `recipient_public_key` (Z85).
std::string SealBundle(const BundleContent& content, const KeyPair& sender,
                       const std::string& recipient_public_key);
// The sender's public key (Z85) of a sealed bundle, read before opening it.
Status BundleSender(const std::string& sealed, std::string* sender_z85);
// Opens a bundle sealed to `recipient` by `sender_public_key`; errors say why it is refused.
Status OpenBundle(const std::string& sealed, const KeyPair& recipient,
                  const std::string& sender_public_key, BundleContent* out);

Status ReadBundleFile(const std::string& path, std::string* out);
Status WriteBundleFile(const std::string& path, const std::string& sealed);

}  // namespace osrc::protocol

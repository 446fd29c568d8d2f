// Decodes a whole message frame held in a string, with default limits.
#pragma once

#include <cstdint>
#include <string>

#include "protocol/messages.h"

namespace osrc::testing {

inline Status DecodeFrame(const std::string& frame, protocol::Message* out,
                          protocol::RunHistory* history = nullptr) {
  return protocol::DecodeMessage({reinterpret_cast<const uint8_t*>(frame.data()), frame.size()},
                                 protocol::MessageLimits{}, out, history);
}

}  // namespace osrc::testing

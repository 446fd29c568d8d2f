// Push frames built field by field, for tests and seeds that need frames EncodeMessage would never
// write (lying counts and size claims, foreign compressed runs). Header-only; needs Cap'n Proto and
// the generated sync.capnp.h, which osrc_schema provides.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "protocol/sync.capnp.h"

namespace osrc::testing {

// A Push message frame with exactly these fields.
// `compact`: the run claims the compact form (protocol/compact_run.h).
inline std::string RawPush(uint64_t first, uint32_t count, uint32_t raw_size,
                           const std::string& compressed, bool compact = false) {
  capnp::MallocMessageBuilder builder;
  auto push = builder.initRoot<protocol::wire::Message>().initPush();
  push.setFirst(first);
  push.setCount(count);
  push.setRawSize(raw_size);
  push.setCompact(compact);
  push.setCompressed(
      kj::arrayPtr(reinterpret_cast<const kj::byte*>(compressed.data()), compressed.size()));
  auto words = capnp::messageToFlatArray(builder);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// The raw size and compressed run of a Push frame.
// REQUIRES: `frame` is a well-formed Push message (from EncodeMessage).
inline void PushParts(const std::string& frame, uint32_t* raw_size, std::string* compressed) {
  auto words = kj::heapArray<capnp::word>(frame.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), frame.data(), frame.size());
  capnp::FlatArrayMessageReader reader(words.asPtr());
  auto push = reader.getRoot<protocol::wire::Message>().getPush();
  *raw_size = push.getRawSize();
  auto data = push.getCompressed();
  compressed->assign(reinterpret_cast<const char*>(data.begin()), data.size());
}

}  // namespace osrc::testing

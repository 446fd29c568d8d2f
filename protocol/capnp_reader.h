// Reading Cap'n Proto messages from untrusted bytes: copied into aligned words (frames and LMDB
// values sit at any address), decoded under traversal and nesting limits, every kj exception
// turned into a bad-message error. Never throws.
#pragma once

#include <capnp/serialize-packed.h>
#include <capnp/serialize.h>
#include <kj/io.h>
#include <kj/exception.h>

#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "base/error.h"

namespace osrc::protocol {

// Calls `read(capnp::MessageReader&) -> Status` over `bytes`; `what` names the message in errors.
template <typename Fn>
Status ReadUntrusted(std::span<const uint8_t> bytes, uint64_t traversal_words, int nesting,
                     std::string_view what, Fn&& read) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    return {ErrorCode::kBadMessage, std::string(what) + " is not a whole number of words"};
  }
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  capnp::ReaderOptions options;
  options.traversalLimitInWords = traversal_words;
  options.nestingLimit = nesting;
  Status status;
  kj::Maybe<kj::Exception> failure = kj::runCatchingExceptions([&]() {
    capnp::FlatArrayMessageReader reader(words.asPtr(), options);
    status = read(reader);
  });
  KJ_IF_MAYBE(exception, failure) {
    return {ErrorCode::kBadMessage,
            "undecodable " + std::string(what) + ": " + exception->getDescription().cStr()};
  }
  return status;
}

// As ReadUntrusted, for bytes in Cap'n Proto's packed encoding.
template <typename Fn>
Status ReadUntrustedPacked(std::span<const uint8_t> bytes, uint64_t traversal_words, int nesting,
                           std::string_view what, Fn&& read) {
  if (bytes.empty()) return {ErrorCode::kBadMessage, std::string(what) + " is empty"};
  capnp::ReaderOptions options;
  options.traversalLimitInWords = traversal_words;
  options.nestingLimit = nesting;
  Status status;
  kj::Maybe<kj::Exception> failure = kj::runCatchingExceptions([&]() {
    kj::ArrayInputStream input(kj::arrayPtr(bytes.data(), bytes.size()));
    capnp::PackedMessageReader reader(input, options);
    status = read(reader);
  });
  KJ_IF_MAYBE(exception, failure) {
    return {ErrorCode::kBadMessage,
            "undecodable " + std::string(what) + ": " + exception->getDescription().cStr()};
  }
  return status;
}

}  // namespace osrc::protocol

// Reading Cap'n Proto messages from untrusted bytes: copied into aligned words (frames and LMDB
// values sit at any address), decoded under traversal and nesting limits, every kj exception
// turned into a bad-message error. Never throws, and never lets kj write to stderr (kj logs a
// fault raised while unwinding from another, e.g. a packed reader's destructor skipping a
// truncated segment, with a stack trace): what kj would log goes into the error instead.
#pragma once

#include <capnp/serialize-packed.h>
#include <capnp/serialize.h>
#include <kj/exception.h>
#include <kj/io.h>

#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "base/error.h"

namespace osrc::protocol {
namespace capnp_reader_internal {

// Installed on this thread while untrusted bytes are read: keeps the first line kj would log.
class KjLogCapture final : public kj::ExceptionCallback {
 public:
  void logMessage(kj::LogSeverity, const char*, int, int, kj::String&& text) override {
    if (!first_.empty()) return;
    std::string_view line(text.cStr(), text.size());
    first_ = std::string(line.substr(0, line.find('\n')));
  }
  // The error for a failed read of `what`: the exception, then anything kj logged.
  Status Failed(std::string_view what, const kj::Exception& exception) const {
    std::string message =
        "undecodable " + std::string(what) + ": " + exception.getDescription().cStr();
    if (!first_.empty()) message += " (then: " + first_ + ")";
    return {ErrorCode::kBadMessage, message};
  }

 private:
  std::string first_;
};

}  // namespace capnp_reader_internal

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
  capnp_reader_internal::KjLogCapture capture;
  kj::Maybe<kj::Exception> failure = kj::runCatchingExceptions([&]() {
    capnp::FlatArrayMessageReader reader(words.asPtr(), options);
    status = read(reader);
  });
  KJ_IF_MAYBE (exception, failure) {
    return capture.Failed(what, *exception);
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
  capnp_reader_internal::KjLogCapture capture;
  kj::Maybe<kj::Exception> failure = kj::runCatchingExceptions([&]() {
    // Unpacked into this thread's scratch words, unless a read inside `read` holds them: most
    // messages fit, and need no allocation.
    thread_local capnp::word scratch[8192];
    thread_local bool scratch_held = false;
    bool hold = !scratch_held;
    scratch_held = true;
    KJ_DEFER(if (hold) scratch_held = false);
    kj::ArrayInputStream input(kj::arrayPtr(bytes.data(), bytes.size()));
    capnp::PackedMessageReader reader(input, options,
                                      hold ? kj::arrayPtr(scratch, std::size(scratch)) : nullptr);
    status = read(reader);
  });
  KJ_IF_MAYBE (exception, failure) {
    return capture.Failed(what, *exception);
  }
  return status;
}

}  // namespace osrc::protocol

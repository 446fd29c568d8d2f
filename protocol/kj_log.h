// Routes what Cap'n Proto's kj would write to stderr (log lines, and faults it logs rather than
// throws, each with a stack trace) to a sink of the caller's, e.g. a daemon's logger. Install one
// at the top of each daemon thread; it covers that thread while it lives. Untrusted decodes
// capture their own (protocol/capnp_reader.h). Not thread-safe: one per thread.
#pragma once

#include <kj/exception.h>

#include <functional>
#include <string_view>
#include <utility>

namespace osrc::protocol {

class KjLogRoute final : public kj::ExceptionCallback {
 public:
  // `sink` gets the first line of each message (no stack trace), and outlives this object.
  explicit KjLogRoute(std::function<void(std::string_view line)> sink) : sink_(std::move(sink)) {}
  KjLogRoute(const KjLogRoute&) = delete;
  KjLogRoute& operator=(const KjLogRoute&) = delete;

  void logMessage(kj::LogSeverity, const char*, int, int, kj::String&& text) override {
    std::string_view line(text.cStr(), text.size());
    sink_(line.substr(0, line.find('\n')));
  }

 private:
  std::function<void(std::string_view line)> sink_;
};

}  // namespace osrc::protocol

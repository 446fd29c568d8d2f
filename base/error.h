// Error codes shared by every module and the wire Error message, the Status value that carries
// an expected failure (what and where), and the Error exception for faults. Thread-compatible.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace osrc {

// Grouped by what the receiver does about it. Values travel on the wire: append only.
enum class ErrorCode : uint16_t {
  kOk = 0,
  // Reject the input.
  kBadInput = 100,
  kBadMessage = 101,
  kForbidden = 102,
  kNotEnrolled = 103,
  kVersion = 104,
  kSchemaMismatch = 105,
  kClockSkew = 106,
  kNotFound = 107,
  kBadBundle = 108,
  kHandshake = 109,  // the CURVE handshake with the hub failed (wrong hub key, or not a hub)
  // Retry later.
  kMapFull = 200,
  kOverloaded = 201,
  // Reconnect.
  kDisconnected = 300,
  kTimeout = 301,
  // Fatal.
  kIo = 400,
  kCorruption = 401,
  kInternal = 402,
};

std::string_view ErrorCodeName(ErrorCode code);
bool IsRetryable(ErrorCode code);

// An expected failure: what went wrong and where ("line 7", "participants/MAS-P0000001").
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string what, std::string where = {})
      : code_(code), what_(std::move(what)), where_(std::move(where)) {}
  static Status Ok() { return {}; }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& what() const { return what_; }
  const std::string& where() const { return where_; }
  // "where: what", or just "what".
  std::string ToString() const;
  // Prefixes the location, e.g. WithContext("line 7").
  Status WithContext(std::string_view outer) const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string what_;
  std::string where_;
};

// Marks a deliberately ignored result, with the reason at the call site.
inline void IgnoreError(const Status&, std::string_view /*why*/) {}

// A fault: I/O failure, map full, corruption, a broken invariant.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace osrc

#define OSRC_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::osrc::Status osrc_status_ = (expr);        \
    if (!osrc_status_.ok()) return osrc_status_; \
  } while (0)

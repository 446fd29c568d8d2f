#include "base/error.h"

namespace osrc {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kBadInput:
      return "bad input";
    case ErrorCode::kBadMessage:
      return "bad message";
    case ErrorCode::kForbidden:
      return "forbidden";
    case ErrorCode::kNotEnrolled:
      return "not enrolled";
    case ErrorCode::kVersion:
      return "unsupported version";
    case ErrorCode::kSchemaMismatch:
      return "schema mismatch";
    case ErrorCode::kClockSkew:
      return "clock skew";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kBadBundle:
      return "bad bundle";
    case ErrorCode::kHandshake:
      return "handshake failed";
    case ErrorCode::kMapFull:
      return "store full";
    case ErrorCode::kOverloaded:
      return "overloaded";
    case ErrorCode::kDisconnected:
      return "disconnected";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kIo:
      return "i/o error";
    case ErrorCode::kCorruption:
      return "corruption";
    case ErrorCode::kInternal:
      return "internal error";
  }
  return "unknown error";
}

bool IsRetryable(ErrorCode code) {
  const auto value = static_cast<uint16_t>(code);
  return value >= 200 && value < 400;
}

std::string Status::ToString() const {
  if (where_.empty()) return what_;
  return where_ + ": " + what_;
}

Status Status::WithContext(std::string_view outer) const {
  if (ok()) return *this;
  std::string where(outer);
  if (!where_.empty()) where += ": " + where_;
  return Status(code_, what_, std::move(where));
}

}  // namespace osrc

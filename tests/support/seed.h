// Seeds for randomised tests: a fixed default, replaced by an environment variable to replay a run.
#pragma once

#include <cstdint>
#include <cstdlib>

namespace osrc::testing {

inline uint64_t SeedFromEnv(const char* variable, uint64_t fallback) {
  const char* text = std::getenv(variable);
  return text != nullptr && *text != '\0' ? std::strtoull(text, nullptr, 10) : fallback;
}

}  // namespace osrc::testing

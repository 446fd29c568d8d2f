// LMDB options for throwaway test stores: a small map and no fsync.
#pragma once

#include <cstddef>

#include "storage/env.h"

namespace osrc::testing {

inline storage::EnvOptions ScratchEnv(size_t map_mib = 64) {
  storage::EnvOptions options;
  options.map_size = map_mib << 20;
  options.durable = false;
  return options;
}

}  // namespace osrc::testing

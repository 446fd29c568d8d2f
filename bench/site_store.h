// A site store for the benchmarks, made as `osrc-node init` and `osrc-node import` make one.
#pragma once

#include <string>

#include "storage/env.h"

namespace osrc::bench {

// The store options of a site node (durable commits unless `durable` is false).
storage::EnvOptions NodeStoreOptions(bool durable = true);

// Prepares a fresh site store of `site` in `dir` as `osrc-node init` does (reference data, meta).
void PrepareSiteStore(const std::string& dir, const std::string& site);

}  // namespace osrc::bench

// The hub data set of the benchmarks: P participants (site, sex, birth date, destination,
// status, registration) and 3P services, merged into a store as the hub merges them.
#pragma once

#include <cstdint>
#include <string_view>

#include "storage/store.h"

namespace osrc::bench {

// Writes the participants and their services, 2,500 participants per transaction.
void Fill(storage::Store& store, int participants);

// The baseline of reading them: every byte of the records of `collection` (all if empty),
// through one read transaction's cursor. Returns seconds; `*checksum` sums the bytes read.
double RawScanSeconds(storage::Store& store, std::string_view collection, uint64_t* checksum);

}  // namespace osrc::bench

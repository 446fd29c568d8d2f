// The hub data set of the benchmarks: P participants (site, sex, birth date, destination,
// status, registration) and 3P services, merged into a store as the hub merges them.
#pragma once

#include "storage/store.h"

namespace osrc::bench {

// Writes the participants and their services, 2,500 participants per transaction.
void Fill(storage::Store& store, int participants);

}  // namespace osrc::bench

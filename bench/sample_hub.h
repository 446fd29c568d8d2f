// The hub data set of the benchmarks: P participants (site, sex, birth date, destination,
// status, registration) and 3P services, merged into a store as the hub merges them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "storage/store.h"

namespace osrc::bench {

// The options of a benchmark over the sample hub.
struct SampleOptions {
  int participants = 1'000'000;  // at scale 1
  double scale = 1.0;
  int reps = 5;
  // Participants at this scale, at least 1,000.
  int Scaled() const;
};

// main() of a benchmark over the sample hub: parses --participants, --scale and --reps over
// `defaults`, then runs `run`. A failure prints "<name>: <what>" and returns 1.
int SampleBenchMain(int argc, char** argv, const std::string& name, const std::string& about,
                    SampleOptions defaults, const std::function<int(const SampleOptions&)>& run);

// Writes the participants and their services, 2,500 participants per transaction.
void Fill(storage::Store& store, int participants);

// The baseline of reading them: every byte of the records of `collection` (all if empty),
// through one read transaction's cursor. Returns seconds; `*checksum` sums the bytes read.
double RawScanSeconds(storage::Store& store, std::string_view collection, uint64_t* checksum);

}  // namespace osrc::bench

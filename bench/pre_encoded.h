// Pre-encoded pushes for the hub ingest benchmark: every site's pushes read from its store and
// encoded (chained and compressed as a site node sends them) before the clock starts, then sent
// over one CURVE connection per site from this process, so an ingest run times the hub alone.
// Thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/ingest_setup.h"
#include "protocol/curve_keys.h"

namespace osrc::bench {

class PreEncodedSites {
 public:
  // Reads and encodes every push of the sites of the fixture's copy in `dir`.
  PreEncodedSites(const IngestFixture& fixture, const std::string& dir);

  // Connects each site to the hub at `endpoint`, says Hello and, once welcomed, sends its pushes
  // with up to `window` unacknowledged; returns once the hub has acknowledged every change.
  // Throws std::runtime_error on a refusal, a gap or after `timeout`.
  void Send(const std::string& endpoint, size_t window, std::chrono::seconds timeout);

  uint64_t wire_bytes() const;

 private:
  struct Site {
    std::string code;
    protocol::KeyPair keys;
    uint64_t head = 0;
    std::vector<std::string> pushes;  // encoded Push frames, in order
    std::vector<uint64_t> lasts;      // the last sequence of each
  };

  std::vector<Site> sites_;
  std::string hub_public_key_;
};

}  // namespace osrc::bench

// The compact form of a run of changes (protocol version 3): what the receiver can rebuild is
// left out. Columns instead of rows, so zstd finds like beside like: collections, origins and
// field names as indexes into the run's own table of names, record ids sharing their prefix with
// the previous one, sequences and stamps as differences from the previous change's, bases as
// differences from their change's stamp and only when set, and each field's values together.
// Every change comes back as its exact stored bytes (EncodeChange's): one whose bytes
// EncodeChange would not reproduce travels as those bytes, unless the receiver takes values
// only (RunFidelity). Pure; thread-compatible.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/error.h"
#include "protocol/change.h"

namespace osrc::protocol {

struct RunContents {
  std::vector<std::string> changes;  // each as stored
  std::vector<uint64_t> seqs;        // a Deliver page's hub sequences, or none
  std::vector<std::string> seals;    // one per change, or none
};

// What encoding found of changes it saw before, by their bytes: a hub sending the same reference
// changes to many sites decodes and checks each once. Keeps the last `capacity` changes seen.
// Not thread-safe.
class RebuildCache {
 public:
  explicit RebuildCache(size_t capacity = 16384) : capacity_(capacity) {}
  // The change `bytes` rebuild from, nullopt if they do not; null if not seen.
  const std::optional<Change>* Find(const std::string& bytes) const;
  void Add(const std::string& bytes, std::optional<Change> change);

 private:
  size_t capacity_;
  std::unordered_map<std::string, std::optional<Change>> changes_;
  std::deque<std::string> order_;
};

// What a run's receiver gets back: every change's exact stored bytes (a hub's sealed changes), or
// its values (a push: the hub merges values and keeps no site's bytes), where a change whose
// bytes EncodeChange would not reproduce comes back as EncodeChange's bytes of the same values.
enum class RunFidelity { kExactBytes, kValues };

// `changes`, with a page's `seqs` and `seals` (or none), as one compact run, padded with zeros to
// whole 8-byte words.
std::string EncodeCompactRun(std::span<const std::string> changes, std::span<const uint64_t> seqs,
                             std::span<const std::string> seals, RebuildCache* cache = nullptr,
                             RunFidelity fidelity = RunFidelity::kExactBytes);
inline std::string EncodeCompactRun(const RunContents& contents, RebuildCache* cache = nullptr,
                                    RunFidelity fidelity = RunFidelity::kExactBytes) {
  return EncodeCompactRun(contents.changes, contents.seqs, contents.seals, cache, fidelity);
}

// Decodes an untrusted compact run of at most `max_changes` changes. A change rebuilt from its
// columns passes the checks DecodeChange makes under `limits`; one carried as stored bytes is
// checked by whoever decodes it. With `values`, one per change: a rebuilt change comes back there
// as a value, its bytes left empty, for a receiver that needs no bytes. Never throws.
Status DecodeCompactRun(std::string_view bytes, size_t max_changes, const DecodeLimits& limits,
                        RunContents* out, std::vector<std::optional<Change>>* values = nullptr);

}  // namespace osrc::protocol

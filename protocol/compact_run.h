// The compact form of a run of changes (protocol version 3): what the receiver can rebuild is
// left out. Columns instead of rows, so zstd finds like beside like: collections, origins and
// field names as indexes into the run's own table of names, record ids sharing their prefix with
// the previous one, sequences and stamps as differences from the previous change's, bases as
// differences from their change's stamp and only when set, and each field's values together.
// Every change comes back as its exact stored bytes (EncodeChange's): one whose bytes
// EncodeChange would not reproduce travels as those bytes. Pure; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "protocol/change.h"

namespace osrc::protocol {

struct RunContents {
  std::vector<std::string> changes;  // each as stored
  std::vector<uint64_t> seqs;        // a Deliver page's hub sequences, or none
  std::vector<std::string> seals;    // one per change, or none
};

// `contents` as one compact run, padded with zeros to whole 8-byte words.
std::string EncodeCompactRun(const RunContents& contents);

// Decodes an untrusted compact run of at most `max_changes` changes. A change rebuilt from its
// columns passes the checks DecodeChange makes under `limits`; one carried as stored bytes is
// checked by whoever decodes it. With `values`, one per change: a rebuilt change comes back there
// as a value, its bytes left empty, for a receiver that needs no bytes. Never throws.
Status DecodeCompactRun(std::string_view bytes, size_t max_changes, const DecodeLimits& limits,
                        RunContents* out, std::vector<std::optional<Change>>* values = nullptr);

}  // namespace osrc::protocol

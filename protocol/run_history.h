// Change runs compressed against what their connection already carried. Each side of a connection
// keeps one RunHistory per direction: the last kHistoryBytes of the raw runs carried that way,
// whose tail is the zstd prefix of the next run, so a push of one change costs what is new in it
// rather than its field names and codes again. The prefix is 16 times the run, at least 16 KiB:
// loading a prefix costs the compressor time in proportion, and small runs gain little from more. A
// run states how many raw bytes its connection carried before it; a receiver whose history differs
// refuses it, and a new connection starts empty. Decoding untrusted runs checks the claimed size
// against the limit and the zstd frame before allocating, and the frame's checksum after. Not
// thread-safe; each thread has its own zstd contexts.
#pragma once

#include <capnp/common.h>
#include <kj/array.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/error.h"

namespace osrc::protocol {

inline constexpr size_t kHistoryBytes = 64 * 1024;

class RunHistory {
 public:
  // Raw run bytes this connection carried this way so far.
  uint64_t carried() const { return carried_; }
  // The last kHistoryBytes of them.
  std::string_view window() const { return window_; }
  // The zstd prefix of a run of `raw_size` bytes: the window's tail.
  std::string_view PrefixFor(size_t raw_size) const;
  void Append(std::string_view raw);

 private:
  uint64_t carried_ = 0;
  std::string window_;
};

inline constexpr int kDefaultRunLevel = 3;
inline constexpr int kHardestRunLevel = 9;

// `raw` as one zstd frame stating its content size and checksum, compressed at zstd `level` (at
// most kHardestRunLevel) against `history`'s window if given (then appended to it), else
// self-contained.
std::string CompressRun(std::string_view raw, RunHistory* history, int level = kDefaultRunLevel);

// Memory held by the calling thread's compressor: the same after its first run, whatever the
// runs and levels since.
size_t CompressorBytes();

// A self-contained frame of CompressRun back into `*raw`; false if `compressed` is not one that
// states its content size, or states more than `max_raw_bytes`.
bool DecompressFrame(std::string_view compressed, size_t max_raw_bytes, std::string* raw);

// A compressed run as it came: `chained` if compressed against the sender's history when it had
// carried `carried` bytes, else self-contained.
struct RunFrame {
  std::span<const uint8_t> compressed;
  uint32_t raw_size = 0;
  bool chained = false;
  uint64_t carried = 0;
};

// Decompresses `frame` into `*raw` (Cap'n Proto words) and appends it to `history`. A chained
// frame needs a `history` that carried as much.
Status DecompressRun(const RunFrame& frame, size_t max_raw_bytes, RunHistory* history,
                     kj::Array<capnp::word>* raw);

}  // namespace osrc::protocol

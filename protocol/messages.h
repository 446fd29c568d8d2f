// The sync messages of DESIGN.md as plain values, and their codec: one Cap'n Proto `Message` per
// ZeroMQ frame, change runs zstd-compressed (protocol/run_history.h). Decoding untrusted bytes
// checks the frame size, Cap'n Proto traversal and nesting limits, and a run's claimed size against
// its limit and its zstd frame before allocating for it; it never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/error.h"
#include "protocol/change.h"
#include "protocol/compact_run.h"
#include "protocol/run_history.h"

namespace osrc::protocol {

struct Hello {
  uint32_t version = 0;
  std::string site;
  uint64_t schema_hash = 0;
  uint64_t log_head = 0;
  uint64_t hub_cursor = 0;
  uint64_t clock = 0;
  std::string epoch;
  uint32_t deliver_bytes = 0;  // largest Deliver page the node's link carries in time; 0: any
  uint32_t merge_version = 0;  // merge rules the sender applies (storage::kMergeVersion)
  // The site's report of itself (0: none or not measured).
  uint64_t oldest_unsent = 0;  // stamp of the oldest change the hub has not acknowledged
  uint32_t link_rate = 0;      // bytes per second towards the hub
  uint32_t round_trip_ms = 0;
  // Raw bytes of Deliver pages the node takes before acknowledging them; 0: one page at a time.
  uint32_t deliver_window = 0;
};

struct Welcome {
  uint64_t acked = 0;
  uint64_t hub_head = 0;
  uint64_t hub_clock = 0;
  std::string epoch;
  uint64_t max_skew_ms = 0;
};

// A contiguous run of the site's changes from `first`, each as stored in its change log.
struct Push {
  uint64_t first = 0;
  std::vector<std::string> changes;
  // Decoded with PushChanges::kValues from a compact run: one per change, set for those rebuilt
  // from its columns, whose `changes` entry is then empty.
  std::vector<std::optional<Change>> values;
};

struct Ack {
  uint64_t acked = 0;
  bool gap = false;
};

struct Deliver {
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t hub_head = 0;
  std::vector<uint64_t> seqs;
  std::vector<std::string> changes;
  std::vector<std::string> seals;  // one per change, or none
};

struct CursorAck {
  uint64_t cursor = 0;
  uint32_t deliver_bytes = 0;   // as in Hello, measured anew; 0: unchanged
  uint32_t deliver_window = 0;  // as in Hello, measured anew; 0: unchanged
};

struct ErrorReply {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  uint64_t hub_clock = 0;
};

// Hub changes of an earlier epoch, handed back with their seals (see sync.capnp).
struct Reoffer {
  uint64_t token = 0;
  std::vector<std::string> changes;
  std::vector<std::string> seals;
};

struct ReofferAck {
  uint64_t token = 0;
  uint64_t hub_head = 0;
};

// The site is leaving (a sync done, a daemon stopping): the hub ends its session at once.
struct Bye {};

using Message = std::variant<Hello, Welcome, Push, Ack, Deliver, CursorAck, ErrorReply, Reoffer,
                             ReofferAck, Bye>;

std::string_view MessageName(const Message& message);

struct MessageLimits {
  size_t max_frame_bytes = 16 << 20;    // Default: 16 MiB on the wire
  size_t max_raw_bytes = 64 << 20;      // Default: 64 MiB decompressed
  size_t max_changes = 100000;          // Default: 100,000 changes per run
  uint64_t traversal_words = 16 << 20;  // Default: 128 MiB traversed
  int nesting = 16;                     // Default: 16
  DecodeLimits change;                  // each change of a compact run rebuilt from its columns
};

// How a Push's or Deliver's changes travel: as a ChangeRun (protocol versions 1 and 2) or in
// compact form (3, protocol/compact_run.h); with a `history` (protocol/run_history.h), compressed
// against what the connection already carried, so decoding one needs the receiver's history of
// it; at zstd `level`.
enum class RunForm { kChangeRun, kCompact };
struct RunCoding {
  RunHistory* history = nullptr;
  int level = kDefaultRunLevel;
  RunForm form = RunForm::kCompact;
  RebuildCache* cache = nullptr;  // for a sender of the same changes to many peers
};

// The form of run a peer speaking `protocol_version` reads.
inline RunForm RunFormOf(uint32_t protocol_version) {
  return protocol_version >= 3 ? RunForm::kCompact : RunForm::kChangeRun;
}

std::string EncodeMessage(const Message& message, const RunCoding& coding = {});
// What decoding a Push gives: every change's stored bytes, or (for a receiver that decodes them
// anyway) values where the run held them in compact form, checked as DecodeChange checks.
enum class PushChanges { kBytes, kValues };
Status DecodeMessage(std::span<const uint8_t> frame, const MessageLimits& limits, Message* out,
                     RunHistory* history = nullptr, PushChanges want = PushChanges::kBytes);

}  // namespace osrc::protocol

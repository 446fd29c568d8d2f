// libFuzzer target: arbitrary bytes as one frame from site MAS into the hub's decode-and-validate
// entry, hub::DecodeInbound. It must return (accepting or refusing) without crashing, and what it
// accepts must keep the hub's promises (fuzz/hub_inbound_target.h). Run it with `make fuzz`.
//
// A push carries its changes zstd-compressed, where byte mutations mostly just break the
// compression; so half the mutations of a frame that decodes as a push mutate one of its changes
// (or the run's `first`) and compress the run again, to reach the change and schema checks, or
// mutate the bytes of its compact run (protocol/compact_run.h) and compress them again, to reach
// the run's decoder.
#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <variant>

#include "fuzz/hub_inbound_target.h"
#include "protocol/messages.h"
#include "tests/support/forged_push.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  osrc::Status status;
  osrc::hub::Inbound inbound;
  std::string broken = osrc::fuzz::CheckHubInbound({data, size}, &status, &inbound);
  if (!broken.empty()) {
    std::fprintf(stderr, "hub_inbound: %s (status: %s)\n", broken.c_str(),
                 status.ToString().c_str());
    std::abort();
  }
  return 0;
}

namespace {

// Mutates one change of the push in `data`, or its `first`; 0 if `data` is no push or the result
// does not fit.
size_t MutatePush(uint8_t* data, size_t size, size_t max_size, std::minstd_rand& rng) {
  osrc::protocol::Message message;
  if (!osrc::protocol::DecodeMessage({data, size}, {}, &message).ok()) return 0;
  auto* push = std::get_if<osrc::protocol::Push>(&message);
  if (push == nullptr || push->changes.empty()) return 0;
  if (rng() % 8 == 0) {
    push->first += static_cast<uint64_t>(static_cast<int64_t>(rng() % 5) - 2);
  } else {
    std::string& change = push->changes[rng() % push->changes.size()];
    size_t room = change.size() + 64;
    change.resize(room);
    size_t mutated = LLVMFuzzerMutate(reinterpret_cast<uint8_t*>(change.data()), room - 64, room);
    change.resize(mutated);
  }
  std::string frame = osrc::protocol::EncodeMessage(*push);
  if (frame.size() > max_size) return 0;
  std::memcpy(data, frame.data(), frame.size());
  return frame.size();
}

// Mutates the bytes of the compact run of the push in `data`; 0 if `data` is no such push or the
// result does not fit.
size_t MutateCompactRun(uint8_t* data, size_t size, size_t max_size) {
  osrc::protocol::Message message;
  if (!osrc::protocol::DecodeMessage({data, size}, {}, &message).ok()) return 0;
  auto* push = std::get_if<osrc::protocol::Push>(&message);
  if (push == nullptr) return 0;
  uint32_t raw_size = 0;
  std::string compressed;
  osrc::testing::PushParts(std::string(reinterpret_cast<const char*>(data), size), &raw_size,
                           &compressed);
  std::string raw(raw_size + 64, '\0');
  size_t got = ZSTD_decompress(raw.data(), raw_size, compressed.data(), compressed.size());
  if (ZSTD_isError(got) || got != raw_size) return 0;
  raw.resize(LLVMFuzzerMutate(reinterpret_cast<uint8_t*>(raw.data()), raw_size, raw.size()));
  raw.resize((raw.size() + 7) / 8 * 8, '\0');
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 1));
  std::string frame =
      osrc::testing::RawPush(push->first, static_cast<uint32_t>(push->changes.size()),
                             static_cast<uint32_t>(raw.size()), out, /*compact=*/true);
  if (frame.size() > max_size) return 0;
  std::memcpy(data, frame.data(), frame.size());
  return frame.size();
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  std::minstd_rand rng(seed);
  switch (rng() % 4) {
    case 0:
    case 1:
      if (size_t mutated = MutatePush(data, size, max_size, rng)) return mutated;
      break;
    case 2:
      if (size_t mutated = MutateCompactRun(data, size, max_size)) return mutated;
      break;
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

// libFuzzer target: arbitrary bytes as one frame from site MAS into the hub's decode-and-validate
// entry, hub::DecodeInbound. It must return (accepting or refusing) without crashing, and what it
// accepts must keep the hub's promises (fuzz/hub_inbound_target.h). Run it with `make fuzz`.
//
// A push carries its changes zstd-compressed, where byte mutations mostly just break the
// compression; so half the mutations of a frame that decodes as a push mutate one of its changes
// (or the run's `first`) and compress the run again, to reach the change and schema checks.
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

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  std::minstd_rand rng(seed);
  if (rng() % 2 == 0) {
    if (size_t mutated = MutatePush(data, size, max_size, rng)) return mutated;
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

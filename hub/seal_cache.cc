#include "hub/seal_cache.h"

namespace osrc::hub {

const std::string& SealCache::Seal(uint64_t seq, std::string_view bytes) {
  Slot& slot = slots_[seq % slots_.size()];
  if (slot.seq != seq || slot.bytes != bytes) {
    slot.seq = seq;
    slot.bytes.assign(bytes);
    slot.seal = sealer_.Seal(bytes);
  }
  return slot.seal;
}

}  // namespace osrc::hub

#include "base/heap.h"

#include <malloc.h>

namespace osrc {

void KeepFreedHeap() { mallopt(M_TRIM_THRESHOLD, 64 << 20); }

}  // namespace osrc

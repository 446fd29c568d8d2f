#include "base/heap.h"

#include <malloc.h>

namespace osrc {

void KeepFreedHeap() {
  // Either setting ends glibc's own adjustment of both, which would raise them only after a large
  // block happened to be freed.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

}  // namespace osrc

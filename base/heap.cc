#include "base/heap.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace osrc {
namespace {

constexpr uintptr_t kHugePage = 2 << 20;
constexpr size_t kHugePageHeap = 16 << 20;

}  // namespace

void KeepFreedHeap() {
  // Either setting ends glibc's own adjustment of both, which would raise them only after a large
  // block happened to be freed.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

void ReserveHugePageHeap(size_t bytes) {
  auto start = reinterpret_cast<uintptr_t>(sbrk(0));
  static void* volatile reserve;        // volatile: the compiler may not drop the pair
  reserve = malloc(bytes + kHugePage);  // from the heap's top, which stays: see KeepFreedHeap
  free(reserve);
  auto end = reinterpret_cast<uintptr_t>(sbrk(0));
  uintptr_t from = (start + kHugePage - 1) & ~(kHugePage - 1);
  uintptr_t to = end & ~(kHugePage - 1);
  // Best effort: without transparent huge pages the heap works as before.
  if (to > from) madvise(reinterpret_cast<void*>(from), to - from, MADV_HUGEPAGE);
}

void SetUpHeap() {
  KeepFreedHeap();
  ReserveHugePageHeap(kHugePageHeap);
}

}  // namespace osrc

// How the process's heap takes memory from the kernel and gives it back.
#pragma once

#include <cstddef>

namespace osrc {

// Serves blocks of up to 32 MiB from the heap and keeps up to 64 MiB of freed memory at its top
// for the next allocations, instead of mapping each large block afresh and handing it back to the
// kernel, which would fault it in again, zeroed, for the next message: a push's runs and decoded
// changes, a page's, come and go by the hundred kilobytes (a sixth of the hub's CPU in a first
// sync, a third of a node's page faults).
void KeepFreedHeap();

// Grows the heap by `bytes` now and asks the kernel to back it with huge pages where it has them
// (transparent huge pages in "madvise" mode, Debian's default): a first sync touches a few MiB of
// fresh heap, one 4 KiB fault at a time otherwise (half of a node's page faults). Untouched, the
// reserve costs address space only. Only after KeepFreedHeap, which keeps it.
void ReserveHugePageHeap(size_t bytes);

// KeepFreedHeap, then a reserve of 16 MiB. Call once at the start of main.
void SetUpHeap();

}  // namespace osrc

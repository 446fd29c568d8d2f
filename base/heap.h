// How the process's heap gives memory back to the kernel.
#pragma once

namespace osrc {

// Serves blocks of up to 32 MiB from the heap and keeps up to 64 MiB of freed memory at its top
// for the next allocations, instead of mapping each large block afresh and handing it back to the
// kernel, which would fault it in again, zeroed, for the next message: a push's runs and decoded
// changes, a page's, come and go by the hundred kilobytes (a sixth of the hub's CPU in a first
// sync, a third of a node's page faults). Call once at the start of main.
void KeepFreedHeap();

}  // namespace osrc

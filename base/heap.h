// How the process's heap gives memory back to the kernel.
#pragma once

namespace osrc {

// Keeps up to 64 MiB of freed memory at the heap's top for the next allocations instead of
// handing it back to the kernel, which would fault it in again, zeroed, for the next message: a
// daemon's buffers come and go with every push and page (a sixth of the hub's CPU in a first
// sync). Call once at the start of main.
void KeepFreedHeap();

}  // namespace osrc

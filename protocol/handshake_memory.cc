// libsodium's guarded allocations, replaced for the programs that hold thousands of CurveZMQ
// connections (osrc-hub, osrc-loadgen). libzmq 4.3 takes them only for the short-lived plaintext
// buffers of each handshake; the keys themselves (the hub's secret key, each connection's session
// keys) sit in ordinary memory inside libzmq anyway. Each guarded allocation maps, guards and locks
// pages, and each release unmaps them, flushing the TLB of every core the process runs on: with
// 2,000 sites connecting at once, that was most of the hub's work. Here the buffers are ordinary
// heap memory, wiped when freed as libsodium wipes them. Linked into an executable, these
// definitions take the place of libsodium's for every library the program loads.
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace {

// Each block starts with its size, so that sodium_free knows what to wipe.
constexpr size_t kHeader = 16;

}  // namespace

extern "C" {

void* sodium_malloc(size_t size) {
  if (size > SIZE_MAX - kHeader) return nullptr;
  auto* block = static_cast<unsigned char*>(std::malloc(kHeader + size));
  if (block == nullptr) return nullptr;
  std::memcpy(block, &size, sizeof size);
  return block + kHeader;
}

void* sodium_allocarray(size_t count, size_t size) {
  if (count > 0 && size >= SIZE_MAX / count) return nullptr;
  return sodium_malloc(count * size);
}

void sodium_free(void* pointer) {
  if (pointer == nullptr) return;
  unsigned char* block = static_cast<unsigned char*>(pointer) - kHeader;
  size_t size = 0;
  std::memcpy(&size, block, sizeof size);
  sodium_memzero(pointer, size);
  std::free(block);
}

}  // extern "C"

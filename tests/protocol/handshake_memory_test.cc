// The hub's replacement of libsodium's guarded allocations (protocol/handshake_memory.cc), linked
// into this test program as into osrc-hub: what libzmq's CurveZMQ handshakes rely on.
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdint>
#include <cstring>

namespace {

TEST(HandshakeMemory, AllocationsHoldWhatIsAskedAndFreeingNullIsHarmless) {
  auto* bytes = static_cast<unsigned char*>(sodium_malloc(1000));
  ASSERT_NE(bytes, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(bytes) % alignof(std::max_align_t), 0u);
  std::memset(bytes, 0x5a, 1000);
  EXPECT_EQ(bytes[999], 0x5a);
  sodium_free(bytes);
  sodium_free(nullptr);
  void* empty = sodium_malloc(0);
  ASSERT_NE(empty, nullptr);
  sodium_free(empty);
}

TEST(HandshakeMemory, ArraysThatWouldOverflowAreRefused) {
  EXPECT_EQ(sodium_allocarray(SIZE_MAX / 2, 4), nullptr);
  EXPECT_EQ(sodium_malloc(SIZE_MAX - 8), nullptr);
  auto* array = static_cast<uint32_t*>(sodium_allocarray(64, sizeof(uint32_t)));
  ASSERT_NE(array, nullptr);
  array[63] = 7;
  EXPECT_EQ(array[63], 7u);
  sodium_free(array);
}

TEST(HandshakeMemory, ThisProgramUsesTheReplacement) {
  // The replacement keeps each block's size in the 16 bytes before it; libsodium's own keeps a
  // random canary there.
  auto* bytes = static_cast<unsigned char*>(sodium_malloc(4096));
  ASSERT_NE(bytes, nullptr);
  size_t kept = 0;
  std::memcpy(&kept, bytes - 16, sizeof kept);
  EXPECT_EQ(kept, 4096u);
  sodium_free(bytes);
}

}  // namespace

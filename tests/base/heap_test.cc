// KeepFreedHeap: a large block freed and asked for again comes back from the heap, its pages
// still mapped, rather than mapped afresh and faulted in page by page.
#include "base/heap.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstring>
#include <memory>

namespace osrc {
namespace {

long MinorFaults() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_minflt;
}

TEST(HeapTest, ALargeBlockFreedAndAskedForAgainIsNotFaultedInAgain) {
  KeepFreedHeap();
  constexpr size_t kBlock = 1 << 20;  // a push's decoded changes, a run: above glibc's 128 KiB
  auto touch = [] {
    std::unique_ptr<char[]> block(new char[kBlock]);
    std::memset(block.get(), 1, kBlock);
    return block[kBlock - 1];
  };
  touch();
  long before = MinorFaults();
  int touched = 0;
  for (int i = 0; i < 20; ++i) touched += touch();
  EXPECT_EQ(touched, 20);
  EXPECT_LT(MinorFaults() - before, 64) << "20 MiB touched through one reused block";
}

}  // namespace
}  // namespace osrc

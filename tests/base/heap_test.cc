// KeepFreedHeap: a large block freed and asked for again comes back from the heap, its pages
// still mapped, rather than mapped afresh and faulted in page by page.
#include "base/heap.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

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

// The VmFlags of the mapping that holds `address`, from /proc/self/smaps.
std::string FlagsOfMappingAt(const void* address) {
  auto at = reinterpret_cast<uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    uintptr_t from = 0;
    uintptr_t to = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> from >> dash >> to && dash == '-' && line.find(':') > line.find(' ')) {
      inside = from <= at && at < to;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

TEST(HeapTest, TheReservedHeapIsAdvisedForHugePages) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer serves memory from its own mappings, not the heap";
#endif
  if (!std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled")) {
    GTEST_SKIP() << "this kernel has no transparent huge pages";
  }
  SetUpHeap();                        // as every program's main
  constexpr size_t kBlock = 8 << 20;  // a first sync's fresh heap, with room to spare
  std::unique_ptr<char[]> block(new char[kBlock]);
  std::string flags = FlagsOfMappingAt(block.get() + kBlock / 2);
  ASSERT_FALSE(flags.empty()) << "no mapping holds the block";
  EXPECT_NE(flags.find(" hg"), std::string::npos) << flags;
}

}  // namespace
}  // namespace osrc

// The heap settings every app applies at start-up: large tensors must come from (and go back to) the heap,
// not from a fresh mmap each time.
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>

#include "cargovision/core/allocator.h"

namespace {

// Number of live mmap-backed blocks while a 64 MiB block (a ResNet152 batch's activation) is held.
size_t mmapped_blocks_while_holding_64_mib() {
  const size_t before = mallinfo2().hblks;
  void* volatile block = std::malloc(64u << 20);
  const size_t during = mallinfo2().hblks;
  std::free(block);
  return during - before;
}

TEST(Allocator, SystemChoiceLeavesGlibcDefaults) {
  ::setenv("CARGOVISION_ALLOCATOR", "system", 1);
  EXPECT_EQ(cargovision::keep_freed_memory_for_reuse(), "glibc defaults (CARGOVISION_ALLOCATOR=system)");
  ::unsetenv("CARGOVISION_ALLOCATOR");
  EXPECT_EQ(mmapped_blocks_while_holding_64_mib(), 1u) << "glibc's default serves 64 MiB with mmap";
}

TEST(Allocator, LargeBlocksComeFromTheHeapAndStayMapped) {
  EXPECT_EQ(cargovision::keep_freed_memory_for_reuse(), "heap keeps freed blocks up to 1 GiB");
  EXPECT_EQ(mmapped_blocks_while_holding_64_mib(), 0u);
  // Freed memory is kept: the heap does not shrink after the block is released.
  const size_t arena_with_block = [] {
    void* volatile block = std::malloc(64u << 20);
    const size_t arena = mallinfo2().arena;
    std::free(block);
    return arena;
  }();
  EXPECT_GE(mallinfo2().arena, arena_with_block);
}

}  // namespace

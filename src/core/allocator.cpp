#include "cargovision/core/allocator.h"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace cargovision {

std::string keep_freed_memory_for_reuse() {
  const char* choice = std::getenv("CARGOVISION_ALLOCATOR");
  if (choice != nullptr && std::strcmp(choice, "system") == 0) return "glibc defaults (CARGOVISION_ALLOCATOR=system)";
#if defined(__GLIBC__)
  // Blocks up to 1 GiB come from the heap (larger ones are rare and still returned at once); freed
  // memory at the top of the heap is never given back, so the next batch finds it mapped.
  constexpr int kMmapThreshold = 1 << 30;
  constexpr int kNeverTrim = 0x7fffffff;
  const bool threshold_set = mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1;
  const bool trim_set = mallopt(M_TRIM_THRESHOLD, kNeverTrim) == 1;
  if (threshold_set && trim_set) return "heap keeps freed blocks up to 1 GiB";
  return "glibc refused the heap settings; defaults kept";
#else
  return "not glibc; system allocator unchanged";
#endif
}

}  // namespace cargovision

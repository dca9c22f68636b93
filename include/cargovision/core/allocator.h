#pragma once
// Process-wide heap settings for tensor workloads.

#include <string>

namespace cargovision {

// glibc serves every allocation above 128 KiB-32 MiB with a fresh mmap and gives it back on free, so a
// network that allocates the same activations each batch page-faults all of them in again each batch
// (measured: TPS-ResNet-BiLSTM training 0.8 -> 1.9 it/s, ResNet152 batch 32 429 -> 75 ms/img once
// freed memory is kept). This keeps large blocks on the heap and stops trimming it: the process holds
// its peak memory until it exits, which is what a training or batch-inference run wants.
// CARGOVISION_ALLOCATOR=system leaves glibc's defaults (the benchmark's baseline). Returns what was done,
// for the log. Call it first thing in main, before large allocations.
std::string keep_freed_memory_for_reuse();

}  // namespace cargovision

// The loaders' threads: the pool that decodes or draws a batch's samples and the queue that hands
// batches to the model; and the kernels' loops on LibTorch's own threads.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "cargovision/core/intra_op_parallel.h"
#include "cargovision/core/prefetcher.h"
#include "cargovision/core/thread_pool.h"
#include "test_support.h"

namespace cargovision {
namespace {

TEST(ThreadPool, RunsEveryIndexOnceOnTheWorkers) {
  ThreadPool pool(2);
  std::vector<std::atomic<int>> runs(50);
  std::mutex mutex;
  std::set<std::thread::id> threads;
  pool.parallel_for(runs.size(), [&](std::size_t i) {
    ++runs[i];
    std::lock_guard<std::mutex> lock(mutex);
    threads.insert(std::this_thread::get_id());
  });
  for (const auto& count : runs) EXPECT_EQ(count.load(), 1);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u) << "the caller waits; the workers run the loop";
}

TEST(ThreadPool, WithoutWorkersTheLoopRunsInline) {
  ThreadPool pool(0);
  std::vector<std::size_t> order;
  pool.parallel_for(4, [&](std::size_t i) { order.push_back(i); });
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 3}));
}

TEST(ThreadPool, FirstErrorIsRethrownAndThePoolStaysUsable) {
  ThreadPool pool(2);
  try {
    pool.parallel_for(16, [](std::size_t i) {
      if (i == 5) throw std::runtime_error("sample 5: cannot decode");
    });
    FAIL() << "a body's exception must reach the caller";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "sample 5: cannot decode");
  }
  std::atomic<int> runs{0};
  pool.parallel_for(8, [&](std::size_t) { ++runs; });
  EXPECT_EQ(runs.load(), 8);
}

using testing::IntraOpThreads;

// The own Winograd's loops once ran on one thread unnoticed: at::parallel_for is serial in a file compiled
// without OpenMP, and nothing failed. This checks the loop really spreads.
TEST(IntraOpParallelFor, CoversTheRangeOnceOnSeveralThreads) {
  IntraOpThreads two(2);
  std::vector<std::atomic<int>> runs(64);
  std::mutex mutex;
  std::set<std::thread::id> threads;
  intra_op_parallel_for(0, static_cast<int64_t>(runs.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) ++runs[static_cast<std::size_t>(i)];
    std::lock_guard<std::mutex> lock(mutex);
    threads.insert(std::this_thread::get_id());
  });
  for (const auto& count : runs) EXPECT_EQ(count.load(), 1);
  EXPECT_EQ(threads.size(), 2u);
}

TEST(IntraOpParallelFor, SlicesRunInTheCallersModes) {
  IntraOpThreads two(2);
  torch::InferenceMode inference;
  const auto left = torch::ones({2, 3, 3}), right = torch::ones({2, 3, 3});
  auto products = torch::zeros({2, 3, 3});  // an inference tensor: writable only in inference mode
  std::atomic<int> in_inference_mode{0};
  intra_op_parallel_for(0, 2, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      if (c10::InferenceMode::is_enabled()) ++in_inference_mode;
      auto out = products.select(0, p);
      at::mm_out(out, left.select(0, p), right.select(0, p));
    }
  });
  EXPECT_EQ(in_inference_mode.load(), 2);
  EXPECT_TRUE(torch::allclose(products, torch::full({2, 3, 3}, 3.f)));
}

TEST(IntraOpParallelFor, RethrowsASlicesErrorAndNestedLoopsRunInline) {
  IntraOpThreads two(2);
  EXPECT_THROW(intra_op_parallel_for(0, 8, 1,
                                     [](int64_t begin, int64_t) {
                                       if (begin > 0) throw std::runtime_error("tile 4: bad");
                                     }),
               std::runtime_error);
  std::atomic<int> inline_runs{0};
  intra_op_parallel_for(0, 2, 1, [&](int64_t, int64_t) {
    const auto outer = std::this_thread::get_id();
    intra_op_parallel_for(0, 4, 1, [&](int64_t begin, int64_t end) {
      if (std::this_thread::get_id() == outer && begin == 0 && end == 4) ++inline_runs;
    });
  });
  EXPECT_EQ(inline_runs.load(), 2);
}

TEST(Prefetcher, HandsOverItemsInOrderThenEnds) {
  int made = 0;
  Prefetcher<int> prefetcher([&]() -> std::optional<int> { return made < 5 ? std::optional<int>(made++) : std::nullopt; }, 2);
  for (int expected = 0; expected < 5; ++expected) EXPECT_EQ(prefetcher.next(), expected);
  EXPECT_EQ(prefetcher.next(), std::nullopt);
  EXPECT_EQ(prefetcher.next(), std::nullopt);
}

TEST(Prefetcher, ProducerErrorComesAfterTheItemsBeforeIt) {
  int made = 0;
  Prefetcher<int> prefetcher(
      [&]() -> std::optional<int> {
        if (made == 2) throw std::runtime_error("gt.txt:3: no tab between image path and label");
        return made++;
      },
      4);
  EXPECT_EQ(prefetcher.next(), 0);
  EXPECT_EQ(prefetcher.next(), 1);
  try {
    prefetcher.next();
    FAIL() << "the producer's error must reach the consumer";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "gt.txt:3: no tab between image path and label");
  }
}

}  // namespace
}  // namespace cargovision

// The loaders' threads: the pool that decodes or draws a batch's samples and the queue that hands
// batches to the model.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "cargovision/core/prefetcher.h"
#include "cargovision/core/thread_pool.h"

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

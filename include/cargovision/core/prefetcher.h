#pragma once
// Work prepared ahead of its consumer: one thread calls a producer until it has `depth` items waiting
// or the producer says it is done, so that the consumer (the network) rarely waits. Used by the image
// loaders of both pipelines.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

namespace cargovision {

template <typename T>
class Prefetcher {
 public:
  // Returns the next item, or nothing when there are no more. Runs on the prefetch thread; an exception
  // it throws ends the stream and is rethrown by next() once the items before it are taken.
  using Producer = std::function<std::optional<T>()>;

  Prefetcher(Producer produce, std::size_t depth) : produce_(std::move(produce)), depth_(depth == 0 ? 1 : depth) {
    thread_ = std::thread([this] { run(); });
  }
  // Stops the producer after the item it is making, discarding what was not taken.
  ~Prefetcher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // Blocks until an item is ready; nothing at the end of the stream.
  std::optional<T> next() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return !ready_.empty() || finished_; });
    if (!ready_.empty()) {
      T item = std::move(ready_.front());
      ready_.pop_front();
      lock.unlock();
      changed_.notify_all();
      return item;
    }
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    return std::nullopt;
  }

 private:
  void run() {
    try {
      for (;;) {
        {
          std::unique_lock<std::mutex> lock(mutex_);
          changed_.wait(lock, [&] { return stopping_ || ready_.size() < depth_; });
          if (stopping_) break;
        }
        std::optional<T> item = produce_();
        if (!item) break;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          ready_.push_back(std::move(*item));
        }
        changed_.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      finished_ = true;
    }
    changed_.notify_all();
  }

  Producer produce_;
  std::size_t depth_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<T> ready_;
  bool finished_ = false;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace cargovision

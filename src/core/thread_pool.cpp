#include "cargovision/core/thread_pool.h"

namespace cargovision {

ThreadPool::ThreadPool(std::size_t workers) {
  for (std::size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::parallel_for(std::size_t count, const std::function<void(std::size_t)>& body) {
  if (workers_.empty()) {
    for (std::size_t i = 0; i < count; ++i) body(i);
    return;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  body_ = &body;
  next_ = 0;
  count_ = count;
  error_ = nullptr;
  ++generation_;
  work_ready_.notify_all();
  work_done_.wait(lock, [this] { return next_ >= count_ && active_ == 0; });
  body_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::worker_loop() {
  std::size_t seen_generation = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    work_ready_.wait(lock, [&] { return stopping_ || (generation_ != seen_generation && body_ != nullptr); });
    if (stopping_) return;
    while (body_ != nullptr && next_ < count_) {
      const std::size_t index = next_++;
      ++active_;
      const auto* body = body_;
      lock.unlock();
      try {
        (*body)(index);
      } catch (...) {
        lock.lock();
        if (!error_) error_ = std::current_exception();
        next_ = count_;
        lock.unlock();
      }
      lock.lock();
      --active_;
    }
    seen_generation = generation_;
    if (next_ >= count_ && active_ == 0) work_done_.notify_all();
  }
}

}  // namespace cargovision

#include "thread_pool.hpp"

namespace emofleet {
namespace {

// Spin iterations (each a pause/yield hint, tens of cycles to a few hundred) before blocking: tens of
// microseconds, longer than the gaps between a forward's loops, short against the gaps between frames.
constexpr int kSpinIterations = 4000;

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield");
#endif
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  for (int worker = 1; worker < threads; ++worker) {
    workers_.emplace_back([this, worker]() { workerLoop(worker); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : workers_) thread.join();
}

void ThreadPool::drain(int worker) {
  for (;;) {
    const size_t index = next_.fetch_add(1, std::memory_order_relaxed);
    if (index >= count_) return;
    (*task_)(index, worker);
  }
}

void ThreadPool::workerLoop(int worker) {
  size_t seen = 0;
  for (;;) {
    bool started = false;
    for (int spin = 0; spin < kSpinIterations; ++spin) {
      if (generation_.load(std::memory_order_acquire) != seen) {
        started = true;
        break;
      }
      cpuRelax();
    }
    if (!started) {
      std::unique_lock<std::mutex> lock(mutex_);
      ++sleeping_;
      wake_.wait(lock, [&]() { return stopping_ || generation_.load(std::memory_order_relaxed) != seen; });
      --sleeping_;
      if (stopping_) return;
    }
    seen = generation_.load(std::memory_order_acquire);
    drain(worker);
    if (busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      // The caller checks busy_ under mutex_ before it blocks, so taking the mutex here rules out a lost wake-up.
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_one();
    }
  }
}

void ThreadPool::parallelFor(size_t count, const std::function<void(size_t, int)>& task) {
  if (count == 0) return;
  if (workers_.empty() || count == 1) {
    for (size_t index = 0; index < count; ++index) task(index, 0);
    return;
  }
  bool wakeSleepers = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = &task;
    count_ = count;
    next_.store(0, std::memory_order_relaxed);
    busy_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    wakeSleepers = sleeping_ > 0;
  }
  if (wakeSleepers) wake_.notify_all();
  drain(0);
  for (int spin = 0; spin < kSpinIterations && busy_.load(std::memory_order_acquire) != 0; ++spin) cpuRelax();
  if (busy_.load(std::memory_order_acquire) != 0) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&]() { return busy_.load(std::memory_order_acquire) == 0; });
  }
  task_ = nullptr;
}

}  // namespace emofleet

// A fixed set of worker threads that run parallel loops; the calling thread takes part as worker 0. Between
// loops the workers spin briefly before they sleep, and the caller spins briefly before it blocks on the last
// worker: a network runs a few loops per layer, microseconds apart, and a futex wake-up per loop (slow on VMs,
// where it goes through the hypervisor) cost more than the loops of the small layers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace emofleet {

class ThreadPool {
 public:
  /** `threads` counts the caller: 1 means no extra threads. */
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  /** Runs task(index, worker) for index in [0, count); worker < size(). One loop at a time per pool. */
  void parallelFor(size_t count, const std::function<void(size_t index, int worker)>& task);

 private:
  void workerLoop(int worker);
  void drain(int worker);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(size_t, int)>* task_ = nullptr;
  size_t count_ = 0;
  std::atomic<size_t> next_{0};
  std::atomic<size_t> generation_{0};  // written under mutex_; read by spinning workers without it
  std::atomic<int> busy_{0};           // workers still in the current loop
  int sleeping_ = 0;                   // workers blocked on wake_ (under mutex_)
  bool stopping_ = false;
};

}  // namespace emofleet

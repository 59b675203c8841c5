// ThreadPool: every index runs exactly once per loop, whether the workers are still spinning from the last loop
// or have gone to sleep; worker ids stay in range; a pool is destroyed cleanly while its workers spin or sleep.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "../core/thread_pool.hpp"
#include "test_harness.hpp"

using namespace emofleet;

namespace {

// Runs `loops` parallel loops of `count` indices, pausing `gap` between them, and checks every index ran once.
void checkLoops(ThreadPool& pool, int loops, size_t count, std::chrono::microseconds gap) {
  for (int loop = 0; loop < loops; ++loop) {
    std::vector<std::atomic<int>> runs(count);
    std::atomic<int> badWorker{0};
    pool.parallelFor(count, [&](size_t index, int worker) {
      runs[index].fetch_add(1, std::memory_order_relaxed);
      if (worker < 0 || worker >= pool.size()) badWorker.fetch_add(1, std::memory_order_relaxed);
    });
    for (size_t index = 0; index < count; ++index) {
      const int ran = runs[index].load();
      if (ran != 1) {
        emofleet_test::recordFailure(__FILE__, __LINE__,
                                     "loop " + std::to_string(loop) + ": index " + std::to_string(index) + " ran " +
                                         std::to_string(ran) + " times");
        return;
      }
    }
    CHECK_EQ(badWorker.load(), 0);
    if (gap.count() > 0) std::this_thread::sleep_for(gap);
  }
}

}  // namespace

TEST(thread_pool_runs_every_index_once_back_to_back) {
  ThreadPool pool(3);
  checkLoops(pool, 2000, 7, std::chrono::microseconds(0));  // workers still spinning from the last loop
  checkLoops(pool, 200, 1000, std::chrono::microseconds(0));
}

TEST(thread_pool_runs_every_index_once_after_its_workers_sleep) {
  ThreadPool pool(3);
  checkLoops(pool, 20, 64, std::chrono::milliseconds(20));  // far past the spin: every loop wakes sleepers
}

TEST(thread_pool_stops_while_its_workers_spin_or_sleep) {
  for (int round = 0; round < 50; ++round) {
    ThreadPool pool(2);
    checkLoops(pool, 1, 16, std::chrono::microseconds(0));
    if (round % 2 == 1) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }  // each destructor must return: a hang here fails the suite by timeout
}

// The runtime's thread pool: how generated kernels run their parallel loops.
//
// Kiln's own (no OpenMP), so the runtime library stays small and cross-compiles for a
// board. Generated code calls the C entry point kiln_parallel_for with an outlined loop
// body; the calling thread takes part in the work. A parallel loop nested inside another
// runs serially on the thread that reaches it. Between jobs a worker spins for a short
// while before it sleeps, so the next kernel's loop (a few microseconds later) starts
// without a wake-up through the kernel; chunks are handed out by an atomic counter.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln {

class ThreadPool {
 public:
  // threads: total workers including the caller (at least 1).
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  // Calls fn(begin, end) on disjoint chunks covering [0, n); returns when all are done.
  void parallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

  // The process-wide pool: KILN_NUM_THREADS threads, or one per hardware thread.
  static ThreadPool& global();

 private:
  void workerLoop();
  void runChunks(uint64_t generation);

  std::vector<std::thread> workers_;
  std::mutex mu_;  // guards the sleeps below
  std::condition_variable wake_, done_;
  std::atomic<uint64_t> generation_{0};  // bumped for each job
  std::atomic<bool> stop_{false};
  std::atomic<int> sleeping_{0};  // workers blocked on wake_
  std::atomic<bool> callerSleeping_{false};
  // The job in flight. fn_, n_ and chunks_ are written before next_ is published (release);
  // next_ holds the job's generation (high 32 bits) and its next chunk (low 32 bits), so a
  // chunk is only ever taken for the job whose data the taker has seen.
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0, chunks_ = 0;
  std::atomic<uint64_t> next_{0};
  std::atomic<int64_t> pending_{0};
  std::mutex jobMu_;  // one parallelFor at a time
};

}  // namespace kiln

extern "C" {
// The entry point generated kernels call: fn(begin, end, closure) over chunks of [0, n).
void kiln_parallel_for(int64_t n, void (*fn)(int64_t begin, int64_t end, void* closure),
                       void* closure);
}

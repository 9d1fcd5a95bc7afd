// The thread pool behind generated parallel loops (see thread_pool.h). Work is cut into a
// few chunks per thread and handed out from an atomic counter, so an uneven loop still
// balances; the caller works too, so a pool of one thread is just a serial loop. Workers
// and the caller spin briefly (kSpins pauses, some tens of microseconds) before they sleep
// on a condition variable: a model's kernels follow each other within microseconds, and a
// wake-up through the operating system costs more than most of their parallel loops.
#include "kiln/runtime/thread_pool.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace kiln {

namespace {
thread_local bool tInsideParallel = false;
constexpr int kSpins = 4000;

inline void pause() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield");
#endif
}
}  // namespace

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < std::max(threads, 1); ++i) workers_.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

ThreadPool& ThreadPool::global() {
  static ThreadPool pool([] {
    if (const char* env = std::getenv("KILN_NUM_THREADS")) {
      int n = std::atoi(env);
      if (n > 0) return n;
    }
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }());
  return pool;
}

// Takes chunks of job `generation` until none are left (or another job has started, which
// means this one was finished by others).
void ThreadPool::runChunks(uint64_t generation) {
  const uint64_t tag = (generation & 0xffffffffu) << 32;
  uint64_t cur = next_.load(std::memory_order_acquire);
  while (true) {
    if ((cur & ~uint64_t{0xffffffffu}) != tag) return;
    const auto c = static_cast<int64_t>(cur & 0xffffffffu);
    if (c >= chunks_) return;
    if (!next_.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel)) continue;
    const int64_t begin = n_ * c / chunks_, end = n_ * (c + 1) / chunks_;
    tInsideParallel = true;
    (*fn_)(begin, end);
    tInsideParallel = false;
    if (pending_.fetch_sub(1) == 1 && callerSleeping_.load()) {
      std::lock_guard<std::mutex> lock(mu_);
      done_.notify_all();
    }
    cur = next_.load(std::memory_order_acquire);
  }
}

void ThreadPool::workerLoop() {
  uint64_t seen = generation_.load(std::memory_order_acquire);
  while (true) {
    for (int i = 0; i < kSpins && generation_.load(std::memory_order_acquire) == seen && !stop_;
         ++i)
      pause();
    if (generation_.load(std::memory_order_acquire) == seen && !stop_) {
      std::unique_lock<std::mutex> lock(mu_);
      ++sleeping_;
      wake_.wait(lock, [&] { return stop_ || generation_.load() != seen; });
      --sleeping_;
    }
    if (stop_) return;
    seen = generation_.load(std::memory_order_acquire);
    runChunks(seen);
  }
}

void ThreadPool::parallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (workers_.empty() || n == 1 || tInsideParallel) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> job(jobMu_);
  fn_ = &fn;
  n_ = n;
  chunks_ = std::min<int64_t>(n, static_cast<int64_t>(size()) * 4);
  pending_.store(chunks_);
  const uint64_t generation = generation_.load() + 1;
  next_.store((generation & 0xffffffffu) << 32, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mu_);  // a worker about to sleep sees the new generation
    generation_.store(generation);
  }
  if (sleeping_.load() > 0) wake_.notify_all();
  runChunks(generation);
  for (int i = 0; i < kSpins && pending_.load() > 0; ++i) pause();
  if (pending_.load() > 0) {
    std::unique_lock<std::mutex> lock(mu_);
    callerSleeping_ = true;
    done_.wait(lock, [&] { return pending_.load() == 0; });
    callerSleeping_ = false;
  }
  fn_ = nullptr;
}

}  // namespace kiln

extern "C" void kiln_parallel_for(int64_t n, void (*fn)(int64_t, int64_t, void*), void* closure) {
  kiln::ThreadPool::global().parallelFor(n, [&](int64_t b, int64_t e) { fn(b, e, closure); });
}

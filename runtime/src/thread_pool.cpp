// The thread pool behind generated parallel loops (see thread_pool.h). Work is cut into a
// few chunks per thread and handed out from a shared counter, so an uneven loop still
// balances; the caller works too, so a pool of one thread is just a serial loop.
#include "kiln/runtime/thread_pool.h"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace kiln {

namespace {
thread_local bool tInsideParallel = false;
}

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

// Takes chunks until none are left. Called with mu_ held; releases it while working.
void ThreadPool::runChunks() {
  while (nextChunk_ < chunks_) {
    int64_t c = nextChunk_++;
    int64_t begin = n_ * c / chunks_, end = n_ * (c + 1) / chunks_;
    const auto* fn = fn_;
    mu_.unlock();
    tInsideParallel = true;
    (*fn)(begin, end);
    tInsideParallel = false;
    mu_.lock();
    if (--pending_ == 0) done_.notify_all();
  }
}

void ThreadPool::workerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t seen = generation_;
  while (true) {
    wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    runChunks();
  }
}

void ThreadPool::parallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (workers_.empty() || n == 1 || tInsideParallel) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> job(jobMu_);
  std::unique_lock<std::mutex> lock(mu_);
  fn_ = &fn;
  n_ = n;
  chunks_ = std::min<int64_t>(n, static_cast<int64_t>(size()) * 4);
  nextChunk_ = 0;
  pending_ = chunks_;
  ++generation_;
  wake_.notify_all();
  runChunks();
  done_.wait(lock, [&] { return pending_ == 0; });
  fn_ = nullptr;
}

}  // namespace kiln

extern "C" void kiln_parallel_for(int64_t n, void (*fn)(int64_t, int64_t, void*), void* closure) {
  kiln::ThreadPool::global().parallelFor(n, [&](int64_t b, int64_t e) { fn(b, e, closure); });
}

#pragma once
// A small fork-join thread pool. Kernels receive it explicitly (no global pool), split their
// work into index ranges with parallel_for, and the calling thread works as one of the workers,
// so a pool of N threads starts N-1 OS threads.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace autarky {

// Physical cores of this machine (hyper-threads of one core count once); at least 1.
int physical_core_count();

class ThreadPool {
 public:
  // n_threads <= 0 means physical_core_count(). The environment variable AUTARKY_MAX_THREADS, if
  // set to a positive number, caps the size.
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(begin, end) on disjoint ranges covering [0, n), in parallel, and returns when all
  // are done. Ranges are contiguous and at least `grain` long (except the last), so callers can
  // keep per-range scratch. fn must not call parallel_for on the same pool.
  using RangeFn = std::function<void(std::int64_t begin, std::int64_t end)>;
  void parallel_for(std::int64_t n, std::int64_t grain, const RangeFn& fn);

 private:
  void worker_loop(int worker_index);
  void run_share(int share_index);

  int n_threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  // The job currently being run (valid while pending_ > 0).
  const RangeFn* job_ = nullptr;
  std::int64_t job_n_ = 0;
  std::int64_t job_chunk_ = 0;
  int job_shares_ = 0;
  std::uint64_t generation_ = 0;
  int pending_ = 0;
  bool stopping_ = false;
};

}  // namespace autarky

#pragma once
// A small fork-join thread pool. Kernels receive it explicitly (no global pool), split their
// work into index ranges with parallel_for, and the calling thread works as one of the workers,
// so a pool of N threads starts N-1 OS threads.
//
// A decode step makes ~100 parallel_for calls a few microseconds apart. Waking a sleeping thread
// through the kernel costs tens of microseconds on a VM, so after a job the workers (and the
// caller waiting for them) poll for a short spin budget before they sleep on a condition
// variable: back-to-back jobs never enter the kernel, an idle pool costs nothing.
// AUTARKY_SPIN_US sets the budget in microseconds (default kDefaultSpinMicros; 0 = always sleep,
// for machines where the cores are shared with other busy work).

#include <atomic>
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

  static constexpr int kDefaultSpinMicros = 200;

  // Calls fn(begin, end) on disjoint ranges covering [0, n), in parallel, and returns when all
  // are done. Ranges are contiguous and at least `grain` long (except the last), so callers can
  // keep per-range scratch. fn must not call parallel_for on the same pool.
  using RangeFn = std::function<void(std::int64_t begin, std::int64_t end)>;
  void parallel_for(std::int64_t n, std::int64_t grain, const RangeFn& fn);

  // The same, but [0, n) is cut into about kPiecesPerThread pieces per thread (each at least
  // `grain` long) that threads claim as they finish: a thread slowed by other work on its core
  // takes fewer. A thread may get several ranges, so per-range setup costs more; for work whose
  // ranges are independent and cheap to start (decode-step matmuls, attention). The call still
  // returns only when every thread has checked in.
  static constexpr int kPiecesPerThread = 4;
  void parallel_for_balanced(std::int64_t n, std::int64_t grain, const RangeFn& fn);

 private:
  void worker_loop(int worker_index);
  void run_share(int share_index);
  void start_job(std::int64_t n, std::int64_t chunk, int shares, bool claimed, const RangeFn& fn);
  // Returns once generation_ differs from `seen` (or the pool stops): polls, then sleeps.
  void wait_for_job(std::uint64_t seen);
  void wait_for_workers();

  int n_threads_ = 1;
  std::int64_t spin_ns_ = 0;
  std::vector<std::thread> workers_;
  // The job currently being run: written by the caller before it bumps generation_, read by
  // workers after they see the new generation (release/acquire on generation_).
  const RangeFn* job_ = nullptr;
  std::int64_t job_n_ = 0;
  std::int64_t job_chunk_ = 0;
  int job_shares_ = 0;
  bool job_claimed_ = false;            // pieces are claimed through next_piece_
  std::atomic<std::int64_t> next_piece_{0};
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> pending_{0};  // workers that have not finished the current job
  std::atomic<bool> stopping_{false};
  // Sleeping is announced before the condition is checked under the mutex, and the other side
  // changes the condition before it looks for sleepers, so one of the two always sees the other
  // (sequentially consistent atomics): no wake-up is lost and no notify is sent needlessly.
  std::mutex mutex_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> caller_sleeping_{false};
};

}  // namespace autarky

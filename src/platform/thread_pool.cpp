#include "platform/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace autarky {

int physical_core_count() {
  // Linux exposes the (package, core) pair of every logical CPU; distinct pairs are physical
  // cores. Fall back to the logical count when sysfs is not readable.
  std::set<std::pair<int, int>> cores;
  for (int cpu = 0;; ++cpu) {
    std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    std::ifstream core_file(base + "core_id");
    std::ifstream package_file(base + "physical_package_id");
    if (!core_file || !package_file) break;
    int core = -1, package = -1;
    core_file >> core;
    package_file >> package;
    cores.emplace(package, core);
  }
  if (!cores.empty()) return static_cast<int>(cores.size());
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace {
// AUTARKY_MAX_THREADS caps every pool: for environments where starting OS threads fails or hangs
// (qemu-user in some sandboxes runs the AArch64 tests single-threaded with it), and for users
// who must leave cores free. Unset, empty or invalid: no cap.
int thread_cap() {
  const char* cap = std::getenv("AUTARKY_MAX_THREADS");
  if (cap == nullptr) return 0;
  const int n = std::atoi(cap);
  return n > 0 ? n : 0;
}
int pool_size(int requested) {
  int n = requested > 0 ? requested : physical_core_count();
  const int cap = thread_cap();
  return cap > 0 ? std::min(n, cap) : n;
}

// Polling budget from AUTARKY_SPIN_US (microseconds; 0 disables polling), else the default.
std::int64_t spin_budget_ns() {
  const char* env = std::getenv("AUTARKY_SPIN_US");
  if (env == nullptr || *env == '\0') return ThreadPool::kDefaultSpinMicros * 1000LL;
  char* end = nullptr;
  const long long us = std::strtoll(env, &end, 10);
  if (*end != '\0' || us < 0) return ThreadPool::kDefaultSpinMicros * 1000LL;
  return std::min<long long>(us, 1000000) * 1000LL;
}

// Tells the core this is a polling loop (frees pipeline resources for a sibling hyper-thread).
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Polls `done` until it holds or budget_ns have passed; true if it held.
template <class Done>
bool poll_until(Done done, std::int64_t budget_ns) {
  if (budget_ns <= 0) return done();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(budget_ns);
  for (;;) {
    // The clock is read once per 64 polls: it costs more than a poll.
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= deadline) return done();
  }
}
}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(pool_size(n_threads)), spin_ns_(spin_budget_ns()) {
  workers_.reserve(n_threads_ - 1);
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stopping_.store(true);
  generation_.fetch_add(1);
  {
    std::lock_guard lock(mutex_);  // a worker between its check and its wait holds the mutex
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_share(int share_index) {
  if (job_claimed_) {
    for (;;) {
      const std::int64_t begin = next_piece_.fetch_add(job_chunk_, std::memory_order_relaxed);
      if (begin >= job_n_) return;
      (*job_)(begin, std::min(job_n_, begin + job_chunk_));
    }
  }
  std::int64_t begin = share_index * job_chunk_;
  std::int64_t end = std::min(job_n_, begin + job_chunk_);
  if (begin < end) (*job_)(begin, end);
}

void ThreadPool::wait_for_job(std::uint64_t seen) {
  auto has_job = [&] { return generation_.load(std::memory_order_acquire) != seen; };
  if (poll_until(has_job, spin_ns_)) return;
  sleeping_workers_.fetch_add(1);
  {
    std::unique_lock lock(mutex_);
    start_cv_.wait(lock, [&] { return generation_.load() != seen; });
  }
  sleeping_workers_.fetch_sub(1);
}

void ThreadPool::worker_loop(int worker_index) {
  std::uint64_t seen = 0;
  for (;;) {
    wait_for_job(seen);
    if (stopping_.load()) return;
    seen = generation_.load(std::memory_order_acquire);
    if (worker_index < job_shares_) run_share(worker_index);
    if (pending_.fetch_sub(1) == 1 && caller_sleeping_.load()) {
      std::lock_guard lock(mutex_);
      done_cv_.notify_one();
    }
  }
}

void ThreadPool::wait_for_workers() {
  auto all_done = [&] { return pending_.load(std::memory_order_acquire) == 0; };
  if (poll_until(all_done, spin_ns_)) return;
  caller_sleeping_.store(true);
  {
    std::unique_lock lock(mutex_);
    done_cv_.wait(lock, [&] { return pending_.load() == 0; });
  }
  caller_sleeping_.store(false);
}

void ThreadPool::parallel_for(std::int64_t n, std::int64_t grain, const RangeFn& fn) {
  if (n <= 0) return;
  grain = std::max<std::int64_t>(grain, 1);
  std::int64_t max_shares = (n + grain - 1) / grain;
  int shares = static_cast<int>(std::min<std::int64_t>(n_threads_, max_shares));
  if (shares <= 1) {
    fn(0, n);
    return;
  }
  // At least grain per share, as promised: e.g. n = 7, grain = 5 over 2 threads is 5 + 2, not 4 + 3.
  start_job(n, std::max(grain, (n + shares - 1) / shares), shares, false, fn);
}

void ThreadPool::parallel_for_balanced(std::int64_t n, std::int64_t grain, const RangeFn& fn) {
  if (n <= 0) return;
  grain = std::max<std::int64_t>(grain, 1);
  if (n_threads_ <= 1 || n <= grain) {
    fn(0, n);
    return;
  }
  const std::int64_t pieces = std::min<std::int64_t>(std::int64_t{n_threads_} * kPiecesPerThread, (n + grain - 1) / grain);
  start_job(n, std::max(grain, (n + pieces - 1) / pieces), n_threads_, true, fn);
}

void ThreadPool::start_job(std::int64_t n, std::int64_t chunk, int shares, bool claimed, const RangeFn& fn) {
  job_ = &fn;
  job_n_ = n;
  job_chunk_ = chunk;
  job_shares_ = shares;
  job_claimed_ = claimed;
  next_piece_.store(0, std::memory_order_relaxed);
  pending_.store(n_threads_ - 1);
  generation_.fetch_add(1);  // publishes the job (seq_cst, so also before the sleeper check)
  if (sleeping_workers_.load() > 0) {
    { std::lock_guard lock(mutex_); }
    start_cv_.notify_all();
  }
  run_share(0);
  wait_for_workers();
  job_ = nullptr;
}

}  // namespace autarky

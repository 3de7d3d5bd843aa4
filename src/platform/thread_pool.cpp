#include "platform/thread_pool.h"

#include <algorithm>
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
}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(pool_size(n_threads)) {
  workers_.reserve(n_threads_ - 1);
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_share(int share_index) {
  std::int64_t begin = share_index * job_chunk_;
  std::int64_t end = std::min(job_n_, begin + job_chunk_);
  if (begin < end) (*job_)(begin, end);
}

void ThreadPool::worker_loop(int worker_index) {
  std::uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      start_cv_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    if (worker_index < job_shares_) run_share(worker_index);
    {
      std::lock_guard lock(mutex_);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }
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
  std::int64_t chunk = std::max(grain, (n + shares - 1) / shares);
  {
    std::lock_guard lock(mutex_);
    job_ = &fn;
    job_n_ = n;
    job_chunk_ = chunk;
    job_shares_ = shares;
    pending_ = n_threads_ - 1;
    ++generation_;
  }
  start_cv_.notify_all();
  run_share(0);
  std::unique_lock lock(mutex_);
  done_cv_.wait(lock, [&] { return pending_ == 0; });
  job_ = nullptr;
}

}  // namespace autarky

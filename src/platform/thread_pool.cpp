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

// How long an idle thread polls before it blocks. A decode step's gap between two parallel_for
// calls is a few microseconds of serial work, and a step's gap to the next (sampling, HTTP) is
// typically well under a millisecond; beyond this bound blocking costs less than the lost core.
constexpr std::chrono::microseconds kSpinTime{200};

// Returns once load() != old: polls (with the CPU's spin-wait hint) for kSpinTime, then blocks.
template <class T>
T wait_for_change(const std::atomic<T>& value, T old) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (int polls = 1;; ++polls) {
    const T now = value.load(std::memory_order_acquire);
    if (now != old) return now;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
    // After a short burst, offer the core to other runnable threads between polls: when the
    // machine has more runnable threads than cores, the thread we wait for may need this one.
    if (polls % 64 == 0) {
      if (std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::yield();
    }
  }
  for (;;) {
    value.wait(old, std::memory_order_acquire);
    const T now = value.load(std::memory_order_acquire);
    if (now != old) return now;
  }
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(pool_size(n_threads)) {
  workers_.reserve(n_threads_ - 1);
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stopping_ = true;
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
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
    seen = wait_for_change(generation_, seen);
    if (stopping_) return;
    if (worker_index < job_shares_) run_share(worker_index);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
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
  job_ = &fn;
  job_n_ = n;
  job_chunk_ = chunk;
  job_shares_ = shares;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  run_share(0);
  for (int left = pending_.load(std::memory_order_acquire); left != 0;) left = wait_for_change(pending_, left);
  job_ = nullptr;
}

}  // namespace autarky

// ThreadPool under the load decode puts on it: thousands of tiny jobs back to back (workers
// still spinning), jobs separated by pauses longer than the spin budget (workers asleep, woken
// by the condition variable), pools of many sizes, pools created and destroyed in a loop.
// Every job must cover [0, n) exactly once with contiguous shares of at least `grain`.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "platform/thread_pool.h"

namespace autarky {
namespace {

// Longer than any spin-before-sleep a pool may do between jobs: workers are asleep after it.
constexpr std::chrono::milliseconds kIdlePause{2};

// Runs one job and checks the parallel_for contract on the ranges it was given: with `balanced`
// (parallel_for_balanced) up to kPiecesPerThread ranges per thread, else at most one.
void check_job(ThreadPool& pool, std::int64_t n, std::int64_t grain, bool balanced = false) {
  std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
  std::mutex m;
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  auto job = [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)].fetch_add(1);
    std::lock_guard lock(m);
    ranges.emplace_back(b, e);
  };
  if (balanced) {
    pool.parallel_for_balanced(n, grain, job);
  } else {
    pool.parallel_for(n, grain, job);
  }
  for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<std::size_t>(i)].load(), 1) << "index " << i << " of " << n;
  std::sort(ranges.begin(), ranges.end());
  ASSERT_LE(static_cast<int>(ranges.size()), pool.size() * (balanced ? ThreadPool::kPiecesPerThread : 1));
  for (std::size_t r = 0; r < ranges.size(); ++r) {
    ASSERT_LT(ranges[r].first, ranges[r].second);
    if (r + 1 < ranges.size()) {
      ASSERT_GE(ranges[r].second - ranges[r].first, grain) << "share " << r;
    }
  }
}

TEST(ThreadPool, ManyRapidJobsEachCoverTheirRangeOnce) {
  for (int threads : {2, 3, 4}) {
    ThreadPool pool(threads);
    for (int job = 0; job < 3000; ++job) {
      const std::int64_t n = 1 + job % 37, grain = 1 + job % 5;
      check_job(pool, n, grain);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(ThreadPool, BalancedJobsCoverTheirRangeOnceInPiecesOfAtLeastGrain) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int job = 0; job < 3000; ++job) {
      const std::int64_t n = 1 + job % 97, grain = 1 + job % 7;
      check_job(pool, n, grain, true);
      if (HasFatalFailure()) return;
    }
    // Balanced and plain jobs alternate on one pool.
    for (int job = 0; job < 200; ++job) {
      check_job(pool, 50 + job, 3, job % 2 == 0);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(ThreadPool, JobsAfterIdlePausesWakeSleepingWorkers) {
  ThreadPool pool(3);
  const auto pause = kIdlePause;
  for (int job = 0; job < 40; ++job) {
    check_job(pool, 64, 4);
    if (HasFatalFailure()) return;
    std::this_thread::sleep_for(job % 2 ? pause : kIdlePause / 20);
  }
}

TEST(ThreadPool, ResultsOfEveryJobAreVisibleToTheCaller) {
  // Plain (non-atomic) writes by workers must be visible once parallel_for returns.
  ThreadPool pool(4);
  std::vector<std::int64_t> out(256);
  for (std::int64_t job = 0; job < 2000; ++job) {
    pool.parallel_for(256, 8, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) out[static_cast<std::size_t>(i)] = job * 1000 + i;
    });
    for (std::int64_t i = 0; i < 256; i += 37) ASSERT_EQ(out[static_cast<std::size_t>(i)], job * 1000 + i);
  }
}

TEST(ThreadPool, CreatedAndDestroyedInALoop) {
  // Destruction must find workers spinning, sleeping or never started, and join them all.
  for (int i = 0; i < 50; ++i) {
    ThreadPool pool(1 + i % 4);
    if (i % 3 != 0) check_job(pool, 10, 1);
    if (i % 5 == 0) std::this_thread::sleep_for(kIdlePause);
  }
}

TEST(ThreadPool, SingleShareRunsOnTheCaller) {
  ThreadPool pool(4);
  std::thread::id ran_on;
  pool.parallel_for(5, 10, [&](std::int64_t b, std::int64_t e) {
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 5);
    ran_on = std::this_thread::get_id();
  });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  pool.parallel_for(0, 1, [&](std::int64_t, std::int64_t) { ADD_FAILURE() << "called for n = 0"; });
}

}  // namespace
}  // namespace autarky

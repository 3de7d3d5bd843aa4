// What one ThreadPool::parallel_for costs beyond its work: a decode step of a 1B model makes
// ~100 of them in 1-2 ms, so a wake-up of tens of microseconds each would be a large share.
// Workload names: thread_pool/empty/<threads> (no work: pure fork-join overhead) and
// thread_pool/work_<us>us/<threads> (each share busy for <us> microseconds, as a small matmul
// slice; compare with the work time). Wall-clock time per parallel_for.

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>

#include "platform/thread_pool.h"

namespace autarky {
namespace {

void busy_for(std::chrono::microseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
  }
}

void BM_Empty(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  ThreadPool pool(threads);
  std::atomic<std::int64_t> sink{0};
  for (auto _ : state) {
    pool.parallel_for(threads, 1, [&](std::int64_t b, std::int64_t e) { sink.fetch_add(e - b, std::memory_order_relaxed); });
  }
  benchmark::DoNotOptimize(sink.load());
}
BENCHMARK(BM_Empty)->Name("thread_pool/empty")->Arg(1)->Arg(2)->Arg(4)->UseRealTime();

void BM_Work(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const std::chrono::microseconds work(state.range(1));
  ThreadPool pool(threads);
  for (auto _ : state) {
    pool.parallel_for(threads, 1, [&](std::int64_t, std::int64_t) { busy_for(work); });
  }
}
BENCHMARK(BM_Work)->Name("thread_pool/work")->ArgNames({"threads", "us"})->Args({2, 10})->Args({2, 50})->UseRealTime();

}  // namespace
}  // namespace autarky

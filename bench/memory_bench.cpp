// Sequential read bandwidth of main memory: the ceiling of decode, which reads every weight once
// per token. bench/run_bench.sh divides decode's weight read rate by this figure.
//
// Workloads: memory/read/t:<threads> (plain loads) and memory/read_prefetch/t:<threads> (with a
// software prefetch ahead, where the CPU has AVX-512): each thread sums its own contiguous slice of a 1 GiB buffer
// (several times any last-level cache of these machines, so reads come from DRAM), all threads
// at once. Counter bytes/s: buffer bytes per wall-clock second (UseRealTime: the threads are
// not the benchmark's own).

#include <benchmark/benchmark.h>

#if defined(__x86_64__)
// GCC 12's AVX-512 headers build "undefined" vectors by self-initialisation, which its own
// -Wuninitialized then reports from inside the intrinsics.
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#endif

#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace autarky {
namespace {

constexpr std::size_t kBufferBytes = std::size_t{1} << 30;

// Sum of the 64-bit words of [p, p + n_words) with the widest loads the CPU has: a core keeps
// more reads in flight with fewer, wider loads, and the kernels being compared use them too.
// Four independent sums so the loop is bound by loads, not by the add chain.
#if defined(__x86_64__)
// kPrefetch: also ask for the line kPrefetchAhead bytes ahead into L2, as the decode kernels do
// (KERNELS-LOG, session 10: prefetcht0 a few KiB ahead read less than plain loads on an AMD
// Zen 4 host, where on the Intel hosts of earlier sessions it had read more).
constexpr std::size_t kPrefetchAhead = 16384;

template <bool kPrefetch>
__attribute__((target("avx512f"))) std::uint64_t sum_words_avx512(const std::uint64_t* p, std::size_t n_words) {
  __m512i s[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
  std::size_t i = 0;
  for (; i + 32 <= n_words; i += 32) {
    const char* ahead = reinterpret_cast<const char*>(p + i) + kPrefetchAhead;
    for (int k = 0; k < 4; ++k) {
      if constexpr (kPrefetch) _mm_prefetch(ahead + 64 * k, _MM_HINT_T1);
      s[k] = _mm512_add_epi64(s[k], _mm512_loadu_si512(p + i + 8 * k));
    }
  }
  std::uint64_t total = static_cast<std::uint64_t>(
      _mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(s[0], s[1]), _mm512_add_epi64(s[2], s[3]))));
  for (; i < n_words; ++i) total += p[i];
  return total;
}

// The access pattern of the float-weight decode kernel: tiles of 4 consecutive 4 KiB pages read
// side by side (64 bytes of each in turn), the next tile fetched into L2 meanwhile. On an AMD
// Zen 4 host this reads faster than one sequential stream (KERNELS-LOG, session 10), so the
// ceiling decode is compared with is the best of the patterns.
__attribute__((target("avx512f"))) std::uint64_t sum_words_tiles_avx512(const std::uint64_t* p, std::size_t n_words) {
  constexpr std::size_t kPage = 4096 / sizeof(std::uint64_t), kTile = 4 * kPage;
  __m512i s[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
  std::size_t i = 0;
  for (; i + kTile <= n_words; i += kTile) {
    const char* next = reinterpret_cast<const char*>(p + i + kTile);
    for (std::size_t off = 0; off < kPage; off += 8) {
      for (int k = 0; k < 4; ++k) {
        _mm_prefetch(next + 4 * sizeof(std::uint64_t) * off + 64 * k, _MM_HINT_T1);
        s[k] = _mm512_add_epi64(s[k], _mm512_loadu_si512(p + i + k * kPage + off));
      }
    }
  }
  std::uint64_t total = static_cast<std::uint64_t>(
      _mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(s[0], s[1]), _mm512_add_epi64(s[2], s[3]))));
  for (; i < n_words; ++i) total += p[i];
  return total;
}

__attribute__((target("avx2"))) std::uint64_t sum_words_avx2(const std::uint64_t* p, std::size_t n_words) {
  __m256i s[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
  std::size_t i = 0;
  for (; i + 16 <= n_words; i += 16) {
    for (int k = 0; k < 4; ++k) {
      s[k] = _mm256_add_epi64(s[k], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 4 * k)));
    }
  }
  alignas(32) std::uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes),
                     _mm256_add_epi64(_mm256_add_epi64(s[0], s[1]), _mm256_add_epi64(s[2], s[3])));
  std::uint64_t total = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i < n_words; ++i) total += p[i];
  return total;
}
#endif

std::uint64_t sum_words_scalar(const std::uint64_t* p, std::size_t n_words) {
  std::uint64_t s[4] = {};
  std::size_t i = 0;
  for (; i + 4 <= n_words; i += 4) {
    for (int k = 0; k < 4; ++k) s[k] += p[i + k];
  }
  for (; i < n_words; ++i) s[0] += p[i];
  return s[0] + s[1] + s[2] + s[3];
}

using SumFn = std::uint64_t (*)(const std::uint64_t*, std::size_t);

enum class Pattern { kPlain, kPrefetch, kTiles };

SumFn widest_sum(Pattern pattern) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) {
    return pattern == Pattern::kTiles      ? sum_words_tiles_avx512
           : pattern == Pattern::kPrefetch ? sum_words_avx512<true>
                                           : sum_words_avx512<false>;
  }
  if (__builtin_cpu_supports("avx2")) return sum_words_avx2;
#endif
  return sum_words_scalar;
}

void BM_ReadBandwidth(benchmark::State& state, Pattern pattern) {
  const int n_threads = static_cast<int>(state.range(0));
  const std::size_t n_words = kBufferBytes / sizeof(std::uint64_t);
  const std::unique_ptr<std::uint64_t[]> buffer(new std::uint64_t[n_words]);
  for (std::size_t i = 0; i < n_words; ++i) buffer[i] = i;  // touch every page before timing
  std::vector<std::uint64_t> sums(static_cast<std::size_t>(n_threads));
  const SumFn sum = widest_sum(pattern);
  const std::size_t share = n_words / static_cast<std::size_t>(n_threads);
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (int t = 0; t < n_threads; ++t) {
      threads.emplace_back([&, t] { sums[static_cast<std::size_t>(t)] = sum(buffer.get() + t * share, share); });
    }
    for (auto& th : threads) th.join();
    benchmark::DoNotOptimize(sums.data());
  }
  state.counters["bytes/s"] = benchmark::Counter(static_cast<double>(share * static_cast<std::size_t>(n_threads) * sizeof(std::uint64_t)),
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK_CAPTURE(BM_ReadBandwidth, plain, Pattern::kPlain)->Name("memory/read")->ArgName("t")->Arg(1)->Arg(2)->Arg(4)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ReadBandwidth, prefetch, Pattern::kPrefetch)->Name("memory/read_prefetch")->ArgName("t")->Arg(1)->Arg(2)->Arg(4)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ReadBandwidth, tiles, Pattern::kTiles)->Name("memory/read_tiles")->ArgName("t")->Arg(1)->Arg(2)->Arg(4)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace autarky

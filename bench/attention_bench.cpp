// Causal attention over the fp16 KV cache (kernels/attention.h) per instruction-set level, at the
// shape of a 1.1B Llama (32 query heads, 8 KV heads of 64): one decode token or a 16-token
// prompt chunk after `depth` cached positions. Workload names:
// attention/<isa>/tokens:<n>/depth:<d>/threads:<t>/layout:<l>; isa 0 = ref, 1 = portable, 2 = avx2,
// 3 = avx512 (skipped where the CPU lacks it); layout 0 = KV heads interleaved per position, 1 =
// one block of rows per KV head (KvCache's layout). Wall-clock time per call (one layer), and bytes/s
// of the K and V rows it reads.

#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/attention.h"
#include "tensor/fp16.h"

namespace autarky {
namespace {

constexpr std::int64_t kHeads = 32, kKvHeads = 8, kHeadDim = 64;

void BM_Attention(benchmark::State& state) {
  const auto isa = static_cast<Isa>(state.range(0));
  bool supported = false;
  for (Isa s : supported_isas()) supported = supported || s == isa;
  if (!supported) {
    state.SkipWithError("instruction set not supported by this CPU");
    return;
  }
  const AttentionKernel kernel = select_attention_kernel(isa);
  const std::int64_t n_tokens = state.range(1), depth = state.range(2);
  ThreadPool pool(static_cast<int>(state.range(3)));
  const std::int64_t n_keys = depth + n_tokens, kv_width = kKvHeads * kHeadDim;
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<std::uint16_t> k(static_cast<std::size_t>(n_keys * kv_width)), v(k.size());
  for (auto& x : k) x = float_to_fp16(dist(rng));
  for (auto& x : v) x = float_to_fp16(dist(rng));
  std::vector<float> q(static_cast<std::size_t>(n_tokens * kHeads * kHeadDim)), out(q.size());
  for (auto& x : q) x = dist(rng);
  const AttentionShape shape{kHeads, kKvHeads, kHeadDim, kHeadDim, 1.0f / std::sqrt(static_cast<float>(kHeadDim))};
  // The rows are random either way: only where each KV head's rows sit differs.
  const KvLayout layout = state.range(4) == 0 ? KvLayout::interleaved(shape) : KvLayout::head_major(shape, n_keys);
  for (auto _ : state) {
    attention_with(kernel, pool, shape, layout, q.data(), n_tokens, depth, k.data(), v.data(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * n_keys * kv_width * 2 * static_cast<std::int64_t>(sizeof(std::uint16_t)));
}
BENCHMARK(BM_Attention)
    ->Name("attention")
    ->ArgNames({"isa", "tokens", "depth", "threads", "layout"})
    ->ArgsProduct({{0, 1, 2, 3}, {1}, {2048}, {1, 2}, {0, 1}})
    ->ArgsProduct({{1, 2, 3}, {16}, {2048}, {2}, {0, 1}})
    // A layer's KV cache (64 MiB) larger than the L3 of these hosts: decode as it reads a long
    // context from DRAM (at depth 2048 the benchmark's 4 MiB stay in L3 between calls, while a
    // whole model's 16 layers do not).
    ->ArgsProduct({{3}, {1}, {32768}, {2}, {1}})
    ->UseRealTime();

}  // namespace
}  // namespace autarky

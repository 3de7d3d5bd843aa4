// The element-wise ops of the forward pass (kernels/ops.h) per instruction-set level, at the
// sizes of a 1.1B Llama (n_embd 2048, n_ff 8192, 32 heads of 64): one decode token and a pp512
// prompt. Workload names: ops/<op>/<isa>/tokens:<n>/threads:<t>; isa 0 = ref (the scalar
// reference), 1 = portable, 2 = avx2, 3 = avx512 (skipped where the CPU lacks it). Wall-clock
// time per call, and bytes/s of the buffers the op reads and writes.

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "kernels/ops.h"

namespace autarky {
namespace {

constexpr std::int64_t kEmbd = 2048, kFf = 8192, kHeads = 32, kHeadDim = 64;

std::vector<float> random_values(std::int64_t n, float scale) {
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

// The level of the benchmark's first argument, or nullptr (and the benchmark skipped) if this
// CPU does not run it.
const OpKernels* kernels_for(benchmark::State& state) {
  const auto isa = static_cast<Isa>(state.range(0));
  for (Isa supported : supported_isas()) {
    if (supported == isa) return &select_op_kernels(isa);
  }
  state.SkipWithError("instruction set not supported by this CPU");
  return nullptr;
}

void BM_Swiglu(benchmark::State& state) {
  const OpKernels* k = kernels_for(state);
  if (!k) return;
  const std::int64_t n = state.range(1) * kFf;
  ThreadPool pool(static_cast<int>(state.range(2)));
  const std::vector<float> gate0 = random_values(n, 3.0f), up = random_values(n, 1.0f);
  std::vector<float> gate(gate0.size());
  for (auto _ : state) {
    // Fresh gates each time: the op is in place, and iterating it would drift into subnormals.
    state.PauseTiming();
    gate = gate0;
    state.ResumeTiming();
    ops::swiglu(*k, pool, gate.data(), up.data(), n);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * 3 * static_cast<std::int64_t>(sizeof(float)));
}

void BM_Add(benchmark::State& state) {
  const OpKernels* k = kernels_for(state);
  if (!k) return;
  const std::int64_t n = state.range(1) * kEmbd;
  ThreadPool pool(static_cast<int>(state.range(2)));
  std::vector<float> x = random_values(n, 1.0f);
  const std::vector<float> b = random_values(n, 1e-3f);
  for (auto _ : state) {
    ops::add(*k, pool, x.data(), b.data(), n);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * 3 * static_cast<std::int64_t>(sizeof(float)));
}

void BM_Rmsnorm(benchmark::State& state) {
  const OpKernels* k = kernels_for(state);
  if (!k) return;
  const std::int64_t rows = state.range(1);
  ThreadPool pool(static_cast<int>(state.range(2)));
  const std::vector<float> x = random_values(rows * kEmbd, 1.0f), w = random_values(kEmbd, 1.0f);
  std::vector<float> out(x.size());
  for (auto _ : state) {
    ops::rmsnorm_rows(*k, pool, x.data(), w.data(), rows, kEmbd, 1e-5f, out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * rows * kEmbd * 2 * static_cast<std::int64_t>(sizeof(float)));
}

// RoPE of the q heads, with the table built once as the forward pass does.
void BM_Rope(benchmark::State& state) {
  const OpKernels* k = kernels_for(state);
  if (!k) return;
  const std::int64_t tokens = state.range(1);
  ThreadPool pool(static_cast<int>(state.range(2)));
  std::vector<float> inv_freq(kHeadDim / 2);
  for (std::size_t i = 0; i < inv_freq.size(); ++i) inv_freq[i] = 1.0f / static_cast<float>(1 + i);
  const ref::RopeParams p{ref::RopeStyle::kNormal, kHeadDim, inv_freq};
  std::vector<float> table(static_cast<std::size_t>(tokens * ops::rope_table_width(p)));
  ops::rope_table(p, 100, tokens, table.data());
  std::vector<float> x = random_values(tokens * kHeads * kHeadDim, 1.0f);
  for (auto _ : state) {
    ops::rope_rows(*k, pool, p, x.data(), tokens, kHeads, kHeadDim, table.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * tokens * kHeads * kHeadDim * 2 * static_cast<std::int64_t>(sizeof(float)));
}

void ArgsPerIsa(benchmark::internal::Benchmark* b) {
  b->ArgNames({"isa", "tokens", "threads"});
  for (int isa = 0; isa <= 3; ++isa) {
    b->Args({isa, 1, 1});
    b->Args({isa, 512, 1});
    b->Args({isa, 512, 2});
  }
  b->UseRealTime();
}

BENCHMARK(BM_Swiglu)->Name("ops/swiglu")->Apply(ArgsPerIsa);
BENCHMARK(BM_Add)->Name("ops/add")->Apply(ArgsPerIsa);
BENCHMARK(BM_Rmsnorm)->Name("ops/rmsnorm")->Apply(ArgsPerIsa);
BENCHMARK(BM_Rope)->Name("ops/rope")->Apply(ArgsPerIsa);

// The table itself: once per forward pass, for all 512 positions of a prompt.
void BM_RopeTable(benchmark::State& state) {
  std::vector<float> inv_freq(kHeadDim / 2);
  for (std::size_t i = 0; i < inv_freq.size(); ++i) inv_freq[i] = 1.0f / static_cast<float>(1 + i);
  const ref::RopeParams p{ref::RopeStyle::kNormal, kHeadDim, inv_freq};
  std::vector<float> table(512 * ops::rope_table_width(p));
  for (auto _ : state) {
    ops::rope_table(p, 0, 512, table.data());
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_RopeTable)->Name("ops/rope_table/tokens:512");

// What RoPE cost before the table: ref::rope per token, sin/cos of every pair recomputed on each
// of the 2 x n_layer calls of a forward pass.
void BM_RopeRefWithSinCos(benchmark::State& state) {
  std::vector<float> inv_freq(kHeadDim / 2);
  for (std::size_t i = 0; i < inv_freq.size(); ++i) inv_freq[i] = 1.0f / static_cast<float>(1 + i);
  const ref::RopeParams p{ref::RopeStyle::kNormal, kHeadDim, inv_freq};
  std::vector<float> x = random_values(512 * kHeads * kHeadDim, 1.0f);
  for (auto _ : state) {
    for (std::int64_t t = 0; t < 512; ++t) ref::rope(x.data() + t * kHeads * kHeadDim, kHeads, kHeadDim, 100 + t, p);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_RopeRefWithSinCos)->Name("ops/rope_ref_sincos/tokens:512")->UseRealTime();

}  // namespace
}  // namespace autarky

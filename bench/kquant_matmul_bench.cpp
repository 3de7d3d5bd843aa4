// Matmul kernels per weight type and instruction-set level, on one thread, through matmul_with()
// (so activation conversion is included). Workload names:
//   matmul/<TYPE>/<isa>/gemv_<n_out>x<n_in>      one token (decode)
//   matmul/<TYPE>/<isa>/gemm_<n_out>x<n_in>x512  512 tokens (prefill)
// Counters: weight_bytes/s (GEMV: the memory-bandwidth view) and macs/s (multiply-adds).
// Only kernels registered at exactly that level are run (plus ref for GEMV); filter with
// --benchmark_filter=Q4_K and so on.

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "kernels/matmul.h"
#include "tensor/type_traits.h"

namespace autarky {
namespace {

struct Problem {
  std::int64_t n_out, n_in, n_tokens;
};

void BM_Matmul(benchmark::State& state, DType type, Isa isa, Problem p) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> w(static_cast<std::size_t>(p.n_out * p.n_in)), x(static_cast<std::size_t>(p.n_tokens * p.n_in));
  for (auto& v : w) v = dist(rng);
  for (auto& v : x) v = dist(rng);
  const std::uint64_t rb = row_bytes(type, p.n_in);
  std::vector<std::uint8_t> q(rb * static_cast<std::uint64_t>(p.n_out));
  // from_float_fast: the weight quantizer's scale search is slow and irrelevant to speed.
  type_traits(type).from_float_fast(w.data(), q.data(), p.n_out * p.n_in);
  const WeightMatrix m{type, q.data(), p.n_in, p.n_out, rb};
  const MatmulKernel k = select_matmul_kernel(type, isa);
  ThreadPool pool(1);
  std::vector<float> y(static_cast<std::size_t>(p.n_tokens * p.n_out));
  for (auto _ : state) {
    matmul_with(k, pool, m, x.data(), p.n_tokens, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(std::string(k.name));
  state.counters["weight_bytes/s"] =
      benchmark::Counter(static_cast<double>(q.size()), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["macs/s"] = benchmark::Counter(static_cast<double>(p.n_out * p.n_in * p.n_tokens),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

const bool kRegistered = [] {
  const DType types[] = {DType::Q4_K, DType::Q6_K, DType::Q5_K, DType::Q3_K, DType::Q2_K,
                         DType::F16,  DType::BF16, DType::F32};
  const Problem gemv[] = {{2048, 2048, 1}, {8192, 2048, 1}};
  const Problem gemm[] = {{2048, 2048, 512}};
  for (DType type : types) {
    for (Isa isa : supported_isas()) {
      const MatmulKernel k = select_matmul_kernel(type, isa);
      if (k.rows == nullptr || k.isa != isa) continue;  // each kernel once, at its own level
      const std::string base = "matmul/" + std::string(dtype_name(type)) + "/" + std::string(isa_name(isa));
      for (const Problem& p : gemv) {
        benchmark::RegisterBenchmark(
            (base + "/gemv_" + std::to_string(p.n_out) + "x" + std::to_string(p.n_in)).c_str(),
            [type, isa, p](benchmark::State& s) { BM_Matmul(s, type, isa, p); })
            ->Unit(benchmark::kMicrosecond);
      }
      if (isa == Isa::kRef) continue;  // minutes per iteration: not worth measuring
      for (const Problem& p : gemm) {
        benchmark::RegisterBenchmark((base + "/gemm_" + std::to_string(p.n_out) + "x" + std::to_string(p.n_in) +
                                      "x" + std::to_string(p.n_tokens))
                                         .c_str(),
                                     [type, isa, p](benchmark::State& s) { BM_Matmul(s, type, isa, p); })
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
  return true;
}();

}  // namespace
}  // namespace autarky

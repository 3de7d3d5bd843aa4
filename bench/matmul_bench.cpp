// Matmul kernel throughput per weight type and instruction-set level, through matmul_with() (so
// activation conversion and the row split are included, as in the model).
//
// Workloads: gemv/<TYPE>/<ISA>/<n_out>x<n_in>/t<threads> (one token: decode; counter
// "weight_bytes/s" is the weight streaming rate), gemv2/... (two tokens: two sequences decoding
// together) and gemm/<TYPE>/<ISA>/<n_out>x<n_in>x<tokens>/t<threads>
// (prefill; counter "ops/s" counts 2 operations per multiply-add). Levels the CPU lacks are
// skipped. Times and rates are CPU time of the calling thread (this machine is shared, so wall
// time is noisy): exact with t1; with t2 the rates count the calling thread's time only.
// The 2048 x 2048 GEMV weights fit the L3, the 8192 x 2048 ones (8-17 MiB) exceed the L2 caches
// but fit the 32 MiB L3 of the AMD hosts, and 32768 x 2048 (37-71 MiB) come from DRAM.

#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/aligned_buffer.h"
#include "kernels/isa.h"
#include "kernels/matmul.h"
#include "platform/thread_pool.h"
#include "tensor/type_traits.h"

namespace autarky {
namespace {

struct Problem {
  std::vector<std::uint8_t> weights;
  AlignedBuffer repacked;
  WeightMatrix w;
  std::vector<float> x;
  std::vector<float> y;
};

std::unique_ptr<Problem> make_problem(DType type, std::int64_t n_out, std::int64_t n_in, std::int64_t n_tokens) {
  auto p = std::make_unique<Problem>();
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> wf(static_cast<std::size_t>(n_out * n_in));
  for (auto& v : wf) v = dist(rng);
  const std::uint64_t rb = row_bytes(type, n_in);
  p->weights.resize(rb * n_out);
  // The fast activation quantizer is enough for benchmark weights and much quicker.
  const TypeTraits& tt = type_traits(type);
  (tt.from_float_fast ? tt.from_float_fast : tt.from_float)(wf.data(), p->weights.data(), n_out * n_in);
  p->w = WeightMatrix{type, p->weights.data(), n_in, n_out, rb};
  p->x.resize(static_cast<std::size_t>(n_tokens * n_in));
  for (auto& v : p->x) v = dist(rng);
  p->y.resize(static_cast<std::size_t>(n_tokens * n_out));
  return p;
}

// repack: the weights in the kernel's own layout, as a loaded model has them (MatmulKernel::pack).
void run(benchmark::State& state, DType type, Isa isa, std::int64_t n_out, std::int64_t n_in, std::int64_t n_tokens,
         int threads, bool repack) {
  const MatmulKernel kernel = select_matmul_kernel(type, isa);
  if (kernel.rows == nullptr) {
    state.SkipWithError("no kernel");
    return;
  }
  state.SetLabel(std::string(kernel.name) + (repack ? " repacked" : ""));
  ThreadPool pool(threads);
  auto p = make_problem(type, n_out, n_in, n_tokens);
  if (repack) {
    p->repacked = AlignedBuffer(kernel.packed_bytes(p->w));
    p->w = repack_weights_into(kernel, pool, p->w, p->repacked.data());
  }
  for (auto _ : state) {
    matmul_with(kernel, pool, p->w, p->x.data(), n_tokens, p->y.data());
    benchmark::DoNotOptimize(p->y.data());
    benchmark::ClobberMemory();
  }
  const double weight_bytes = static_cast<double>(p->weights.size());
  const double ops = 2.0 * static_cast<double>(n_out) * static_cast<double>(n_in) * static_cast<double>(n_tokens);
  state.counters["weight_bytes/s"] = benchmark::Counter(weight_bytes, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["ops/s"] = benchmark::Counter(ops, benchmark::Counter::kIsIterationInvariantRate);
}

const int kRegistered = [] {
  const std::pair<DType, const char*> types[] = {{DType::Q8_0, "Q8_0"}, {DType::Q4_0, "Q4_0"}, {DType::Q4_1, "Q4_1"},
                                                 {DType::Q5_0, "Q5_0"}, {DType::Q5_1, "Q5_1"}, {DType::Q4_K, "Q4_K"},
                                                 {DType::Q5_K, "Q5_K"}, {DType::Q6_K, "Q6_K"}, {DType::Q2_K, "Q2_K"},
                                                 {DType::Q3_K, "Q3_K"}};
  for (Isa isa : supported_isas()) {
    for (auto [type, type_name] : types) {
      for (bool repack : {false, true}) {
        if (repack && select_matmul_kernel(type, isa).pack == nullptr) continue;
        const std::string prefix = std::string(type_name) + "/" + std::string(isa_name(isa)) + (repack ? "-repacked/" : "/");
        for (int threads : {1, 2}) {
          const std::string t = "/t" + std::to_string(threads);
          // 32768 rows: more bytes than the 32 MiB L3 of these hosts for every type here, so the
          // weights come from DRAM, as in a model's decode.
          for (std::int64_t n_out : {2048, 8192, 32768}) {
            benchmark::RegisterBenchmark(("gemv/" + prefix + std::to_string(n_out) + "x2048" + t).c_str(), run, type, isa,
                                         n_out, 2048, 1, threads, repack);
          }
          if (isa != Isa::kRef && threads == 1) {  // two sequences decoding together (server batching)
            benchmark::RegisterBenchmark(("gemv2/" + prefix + "2048x2048" + t).c_str(), run, type, isa, 2048, 2048, 2,
                                         threads, repack);
          }
          if (isa != Isa::kRef) {
            benchmark::RegisterBenchmark(("gemm/" + prefix + "2048x2048x512" + t).c_str(), run, type, isa, 2048, 2048,
                                         512, threads, repack)
                ->Unit(benchmark::kMillisecond);
          }
        }
      }
    }
  }
  return 0;
}();

}  // namespace
}  // namespace autarky

// Throughput of dequantization and quantization per tensor type, one thread, on a 256 x 4096
// Gaussian matrix (1 Mi weights). Workload names: dequant/<TYPE>, quantize/<TYPE> (weights,
// best quality) and quantize_activations/<TYPE> (the fast path); counters report weights per
// second. Run with --benchmark_format=json for machine-readable output.

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "tensor/convert.h"
#include "tensor/dtype.h"
#include "tensor/type_traits.h"

namespace autarky {
namespace {

constexpr std::int64_t kRows = 256, kCols = 4096;

const std::vector<float>& gaussian_matrix() {
  static const std::vector<float> data = [] {
    std::mt19937 rng(42);
    std::normal_distribution<float> dist(0.0f, 0.02f);
    std::vector<float> v(static_cast<std::size_t>(kRows * kCols));
    for (auto& x : v) x = dist(rng);
    return v;
  }();
  return data;
}

void BM_Dequantize(benchmark::State& state, DType type) {
  const auto& x = gaussian_matrix();
  std::vector<std::uint8_t> packed(static_cast<std::size_t>(kRows) * row_bytes(type, kCols));
  quantize(type, x.data(), packed.data(), kRows, kCols);
  std::vector<float> out(x.size());
  for (auto _ : state) {
    dequantize(type, packed.data(), out.data(), kRows * kCols, 1);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["weights/s"] = benchmark::Counter(static_cast<double>(kRows * kCols), benchmark::Counter::kIsIterationInvariantRate);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(packed.size()));
}

void BM_Quantize(benchmark::State& state, DType type) {
  const auto& x = gaussian_matrix();
  std::vector<std::uint8_t> packed(static_cast<std::size_t>(kRows) * row_bytes(type, kCols));
  for (auto _ : state) {
    quantize(type, x.data(), packed.data(), kRows, kCols, 1);
    benchmark::DoNotOptimize(packed.data());
  }
  state.counters["weights/s"] = benchmark::Counter(static_cast<double>(kRows * kCols), benchmark::Counter::kIsIterationInvariantRate);
}

// The activation path: one row of 4096 at a time, as a matmul quantizes its input.
void BM_QuantizeActivations(benchmark::State& state, DType type) {
  const auto& x = gaussian_matrix();
  const FromFloatFn fast = type_traits(type).from_float_fast;
  std::vector<std::uint8_t> packed(static_cast<std::size_t>(kRows) * row_bytes(type, kCols));
  for (auto _ : state) {
    for (std::int64_t r = 0; r < kRows; ++r) fast(x.data() + r * kCols, packed.data() + r * row_bytes(type, kCols), kCols);
    benchmark::DoNotOptimize(packed.data());
  }
  state.counters["weights/s"] = benchmark::Counter(static_cast<double>(kRows * kCols), benchmark::Counter::kIsIterationInvariantRate);
}

constexpr DType kTypes[] = {DType::F16,  DType::BF16, DType::Q8_0, DType::Q8_1, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                            DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_K};

[[maybe_unused]] const bool kRegistered = [] {
  for (DType type : kTypes) {
    const std::string name(dtype_name(type));
    benchmark::RegisterBenchmark(("dequant/" + name).c_str(), BM_Dequantize, type)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("quantize/" + name).c_str(), BM_Quantize, type)->Unit(benchmark::kMillisecond);
  }
  for (DType type : {DType::Q8_0, DType::Q8_1, DType::Q8_K}) {
    const std::string name(dtype_name(type));
    benchmark::RegisterBenchmark(("quantize_activations/" + name).c_str(), BM_QuantizeActivations, type)
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
}  // namespace autarky

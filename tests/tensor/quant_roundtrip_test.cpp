// Quantization round trips on synthetic data: error bounds per type, stability of
// quantize(dequantize(quantize(x))), and degenerate blocks (zeros, constants, huge and tiny
// magnitudes, outliers) that must never produce NaN or Inf.

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <random>
#include <vector>

#include "base/error.h"
#include "tensor/convert.h"
#include "tensor/type_traits.h"
#include "test_support.h"

namespace autarky {
namespace {

struct TypeBound {
  DType type;
  double max_relative_rmse;  // RMSE / RMS of the input, Gaussian data
};

// Measured on N(0, 1) data (see the printout of RelativeRmseOnGaussianData), plus ~8% margin.
// A layout or rounding bug gives errors of the order of the data itself (>= 50%). Q8_K (the
// activation format) uses plain max-abs scaling, so it is a bit worse than Q8_0.
constexpr TypeBound kBounds[] = {
    {DType::F16, 0.00025}, {DType::BF16, 0.0019}, {DType::Q8_0, 0.0055}, {DType::Q8_1, 0.0065}, {DType::Q8_K, 0.0077},
    {DType::Q6_K, 0.0185}, {DType::Q5_0, 0.044},  {DType::Q5_1, 0.037},  {DType::Q5_K, 0.039},
    {DType::Q4_0, 0.090},  {DType::Q4_1, 0.077},  {DType::Q4_K, 0.078},  {DType::Q3_K, 0.160},
    {DType::Q2_K, 0.300},
};

std::vector<float> gaussian(std::size_t n, std::uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

std::vector<std::uint8_t> quantize_all(DType type, const std::vector<float>& x, std::int64_t n_per_row) {
  const std::int64_t n_rows = static_cast<std::int64_t>(x.size()) / n_per_row;
  std::vector<std::uint8_t> packed(static_cast<std::size_t>(n_rows) * row_bytes(type, n_per_row));
  quantize(type, x.data(), packed.data(), n_rows, n_per_row);
  return packed;
}

std::vector<float> dequantize_all(DType type, const std::vector<std::uint8_t>& packed, std::size_t n) {
  std::vector<float> out(n);
  dequantize(type, packed.data(), out.data(), static_cast<std::int64_t>(n));
  return out;
}

double relative_rmse(const std::vector<float>& x, const std::vector<float>& y) {
  double err = 0, ref = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    err += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
    ref += static_cast<double>(x[i]) * x[i];
  }
  return ref > 0 ? std::sqrt(err / ref) : std::sqrt(err);
}

TEST(QuantRoundTrip, RelativeRmseOnGaussianData) {
  const std::int64_t n_per_row = 1024;
  const std::vector<float> x = gaussian(64 * n_per_row, 1234);
  for (const auto& [type, bound] : kBounds) {
    SCOPED_TRACE(std::string(dtype_name(type)));
    const std::vector<float> y = dequantize_all(type, quantize_all(type, x, n_per_row), x.size());
    const double r = relative_rmse(x, y);
    std::printf("  %-5s relative RMSE %.5f (bound %.4f)\n", std::string(dtype_name(type)).c_str(), r, bound);
    EXPECT_LE(r, bound);
  }
}

TEST(QuantRoundTrip, ErrorScalesWithInput) {
  // Quantization is scale-free up to fp16 rounding of the scales: multiplying the input by a
  // power of two in the fp16 normal range leaves the relative error unchanged (within 10%).
  const std::vector<float> x = gaussian(4096, 77);
  for (const auto& [type, bound] : kBounds) {
    if (type == DType::F16 || type == DType::BF16) continue;
    SCOPED_TRACE(std::string(dtype_name(type)));
    const double base = relative_rmse(x, dequantize_all(type, quantize_all(type, x, 4096), x.size()));
    for (float factor : {1.0f / 64, 64.0f}) {
      std::vector<float> scaled(x);
      for (auto& v : scaled) v *= factor;
      const double r = relative_rmse(scaled, dequantize_all(type, quantize_all(type, scaled, 4096), x.size()));
      EXPECT_NEAR(r, base, 0.1 * base + 1e-6) << "factor " << factor;
    }
  }
}

TEST(QuantRoundTrip, RequantizingIsStable) {
  // Dequantized values lie on the type's grid, so quantizing them again should find (nearly)
  // the same grid: the second round trip moves values by at most 1% of the first one's error
  // (in practice our quantizers reproduce them exactly), and a third changes nothing more.
  const std::vector<float> x = gaussian(8 * 1024, 99);
  for (const auto& [type, bound] : kBounds) {
    SCOPED_TRACE(std::string(dtype_name(type)));
    const std::vector<float> once = dequantize_all(type, quantize_all(type, x, 1024), x.size());
    const std::vector<float> twice = dequantize_all(type, quantize_all(type, once, 1024), x.size());
    const double first_error = relative_rmse(x, once);
    EXPECT_LE(relative_rmse(once, twice), 0.01 * first_error);
    const std::vector<float> thrice = dequantize_all(type, quantize_all(type, twice, 1024), x.size());
    EXPECT_LE(relative_rmse(twice, thrice), 0.01 * first_error);
  }
}

TEST(QuantRoundTrip, DegenerateBlocksStayFinite) {
  const std::size_t n = 1024;
  std::vector<std::vector<float>> inputs;
  inputs.emplace_back(n, 0.0f);                   // all zero
  inputs.emplace_back(n, 0.75f);                  // constant positive
  inputs.emplace_back(n, -3.0f);                  // constant negative
  inputs.push_back(gaussian(n, 5, 1e4f));         // large but inside fp16 range
  inputs.push_back(gaussian(n, 6, 1e-6f));        // tiny: fp16 scales underflow
  inputs.push_back(gaussian(n, 7, 1e-30f));       // far below fp16: must become zeros, not NaN
  inputs.push_back(gaussian(n, 8, 1e9f));         // beyond fp16: scales saturate
  std::vector<float> outlier = gaussian(n, 9);
  outlier[17] = 500.0f, outlier[300] = -800.0f;  // one huge value per block
  inputs.push_back(outlier);
  std::vector<float> sparse(n, 0.0f);
  sparse[3] = 1.0f, sparse[700] = -2.0f;
  inputs.push_back(sparse);

  for (const auto& [type, bound] : kBounds) {
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      SCOPED_TRACE(std::string(dtype_name(type)) + " input #" + std::to_string(k));
      const auto& x = inputs[k];
      const std::vector<float> y = dequantize_all(type, quantize_all(type, x, static_cast<std::int64_t>(n)), n);
      double max_in = 0;
      for (float v : x) max_in = std::max(max_in, static_cast<double>(std::fabs(v)));
      for (std::size_t i = 0; i < n; ++i) {
        // F16 legitimately overflows to Inf for the 1e9 input; every quantized type must not.
        if (type == DType::F16 && max_in > 65504) break;
        ASSERT_TRUE(std::isfinite(y[i])) << "element " << i << " = " << y[i];
        ASSERT_LE(std::fabs(y[i]), 2 * max_in + 1e-30) << "element " << i;
      }
      if (max_in == 0) {
        for (float v : y) ASSERT_EQ(v, 0.0f);
      }
    }
  }
}

TEST(QuantRoundTrip, ThreadedQuantizeMatchesSingleThread) {
  const std::vector<float> x = gaussian(256 * 512, 4242);
  for (DType type : {DType::Q4_K, DType::Q8_0}) {
    std::vector<std::uint8_t> one(256 * row_bytes(type, 512)), many(one.size());
    quantize(type, x.data(), one.data(), 256, 512, 1);
    quantize(type, x.data(), many.data(), 256, 512, 4);
    EXPECT_EQ(one, many) << dtype_name(type);
  }
}

TEST(QuantRoundTrip, RejectsPartialBlocksAndLayoutOnlyTypes) {
  std::vector<float> x(100);
  std::vector<std::uint8_t> out(1024);
  EXPECT_THROW(quantize(DType::Q4_K, x.data(), out.data(), 1, 100), Error);
  EXPECT_THROW(dequantize(DType::Q8_0, out.data(), x.data(), 33), Error);
  EXPECT_THROW(quantize(DType::IQ2_XXS, x.data(), out.data(), 1, 256), Error);
  EXPECT_FALSE(can_dequantize(DType::TQ1_0));
  EXPECT_EQ(type_traits(DType::IQ4_NL).type, DType::IQ4_NL);
}

TEST(QuantRoundTrip, NonFiniteInputIsRejectedForBlockTypes) {
  std::vector<float> x = gaussian(4 * 256, 3);
  x[2 * 256 + 5] = std::numeric_limits<float>::quiet_NaN();
  std::vector<std::uint8_t> out(4 * row_bytes(DType::F32, 256));
  try {
    quantize(DType::Q4_K, x.data(), out.data(), 4, 256, 2);
    ADD_FAILURE() << "NaN input was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("row 2 element 5"), std::string::npos) << e.what();
  }
  x[2 * 256 + 5] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(quantize(DType::Q8_0, x.data(), out.data(), 4, 256), Error);
  EXPECT_NO_THROW(quantize(DType::F16, x.data(), out.data(), 4, 256));  // float types keep Inf
}

}  // namespace
}  // namespace autarky

// The element-wise ops (kernels/ops.h) at every instruction-set level this CPU runs, against the
// scalar reference (kernels/ref/ops_ref.h) and, for exp, against double precision. Lengths cover
// the vector tails; the thread-pool splitting is checked against one serial call.

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/ops.h"
#include "test_support.h"

namespace autarky {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<float> random_values(std::size_t n, std::uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// The vector levels this CPU runs that have kernels of their own (kRef is the oracle itself;
// kAmx uses the AVX-512 ops).
std::vector<Isa> vector_isas() {
  std::vector<Isa> isas;
  for (Isa isa : supported_isas()) {
    if (isa != Isa::kRef && select_op_kernels(isa).isa == isa) isas.push_back(isa);
  }
  return isas;
}

// Lengths around every vector width (4, 8, 16) and a few long ones.
const std::int64_t kLengths[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 100, 257, 1000, 2048};

// |got - want| in units of the float spacing at want (want a normal float).
double ulps(float got, double want) {
  const double spacing = std::ldexp(1.0, std::ilogb(static_cast<float>(want)) - 23);
  return std::fabs(static_cast<double>(got) - want) / spacing;
}

bool same_or_both_nan(float a, float b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

TEST(OpKernels, DispatchMatchesTheRequestedLevel) {
  for (Isa isa : supported_isas()) {
    // Every level up to AVX-512 has its own ops; AMX adds only matmuls.
    EXPECT_EQ(select_op_kernels(isa).isa, std::min(isa, Isa::kAvx512)) << isa_name(isa);
  }
  EXPECT_EQ(op_kernels().isa, std::min(default_isa(), Isa::kAvx512));
}

// A sweep over every 509th float in [-104, 89] (about 4.4 million inputs: the whole range where
// e^x is neither 0 nor inf, which covers SiLU's e^-g for any gate) against exp in double.
TEST(OpKernels, ExpMatchesDoublePrecision) {
  std::vector<float> x;
  for (std::uint32_t bits = 0; bits <= std::bit_cast<std::uint32_t>(104.0f); bits += 509) {
    const float v = std::bit_cast<float>(bits);
    x.push_back(-v);
    if (v <= 89.0f) x.push_back(v);
  }
  std::vector<float> y(x.size());
  for (Isa isa : vector_isas()) {
    SCOPED_TRACE(std::string(isa_name(isa)));
    select_op_kernels(isa).exp(x.data(), y.data(), static_cast<std::int64_t>(x.size()));
    double max_ulps = 0.0, max_subnormal_error = 0.0;
    std::size_t differ_from_std = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double want = std::exp(static_cast<double>(x[i]));
      if (y[i] != std::exp(x[i])) ++differ_from_std;
      if (want > static_cast<double>(std::numeric_limits<float>::max())) {
        ASSERT_EQ(y[i], kInf) << "x=" << x[i];
      } else if (want >= static_cast<double>(std::numeric_limits<float>::min())) {
        max_ulps = std::max(max_ulps, ulps(y[i], want));
        ASSERT_LE(ulps(y[i], want), 2.0) << "x=" << x[i] << " got " << y[i] << " want " << want;
      } else {
        // Subnormal results: absolute error in units of the smallest subnormal.
        const double error = std::fabs(static_cast<double>(y[i]) - want) / 0x1p-149;
        max_subnormal_error = std::max(max_subnormal_error, error);
        ASSERT_LE(error, 1.0) << "x=" << x[i];
      }
    }
    std::printf("[ %s exp ] %zu inputs: max %.3f ulp (normal results), max %.3f of 2^-149 (subnormal), "
                "%zu differ from std::exp\n",
                std::string(isa_name(isa)).c_str(), x.size(), max_ulps, max_subnormal_error, differ_from_std);
  }
}

TEST(OpKernels, ExpSpecialValues) {
  const std::vector<float> x = {0.0f, -0.0f, kInf, -kInf, kNaN, -kNaN, 200.0f, -200.0f,
                                std::numeric_limits<float>::max(), std::numeric_limits<float>::lowest(),
                                88.72283172607421875f,  // largest x with a finite e^x
                                88.72283935546875f, -105.0f, 1.0f};
  std::vector<float> y(x.size());
  for (Isa isa : vector_isas()) {
    SCOPED_TRACE(std::string(isa_name(isa)));
    select_op_kernels(isa).exp(x.data(), y.data(), static_cast<std::int64_t>(x.size()));
    EXPECT_EQ(y[0], 1.0f);
    EXPECT_EQ(y[1], 1.0f);
    EXPECT_EQ(y[2], kInf);
    EXPECT_EQ(y[3], 0.0f);
    EXPECT_TRUE(std::isnan(y[4]));
    EXPECT_TRUE(std::isnan(y[5]));
    EXPECT_EQ(y[6], kInf);
    EXPECT_EQ(y[7], 0.0f);
    EXPECT_EQ(y[8], kInf);
    EXPECT_EQ(y[9], 0.0f);
    EXPECT_TRUE(std::isfinite(y[10]));
    EXPECT_LE(ulps(y[10], std::exp(static_cast<double>(x[10]))), 2.0);
    EXPECT_EQ(y[11], kInf);
    EXPECT_EQ(y[12], 0.0f);
    EXPECT_LE(ulps(y[13], std::exp(1.0)), 2.0);
  }
}

TEST(OpKernels, SwigluMatchesReference) {
  for (Isa isa : vector_isas()) {
    for (std::int64_t n : kLengths) {
      SCOPED_TRACE(std::string(isa_name(isa)) + " n=" + std::to_string(n));
      std::vector<float> gate = random_values(n, 1 + static_cast<std::uint32_t>(n), 4.0f);
      const std::vector<float> up = random_values(n, 2 + static_cast<std::uint32_t>(n), 1.0f);
      // Extremes where e^-g overflows or underflows, and non-finite gates.
      const float extremes[] = {90.0f, -90.0f, 1000.0f, -1000.0f, kInf, -kInf, kNaN, -20.0f, 20.0f};
      for (std::int64_t i = 0; i < n && i < 9; ++i) gate[i * 7 % n] = extremes[i];
      std::vector<float> want = gate, got = gate;
      ref::swiglu(want.data(), up.data(), n);
      select_op_kernels(isa).swiglu(got.data(), up.data(), n);
      for (std::int64_t i = 0; i < n; ++i) {
        if (!std::isfinite(want[i]) || want[i] == 0.0f) {
          EXPECT_TRUE(same_or_both_nan(got[i], want[i])) << "i=" << i << " g=" << gate[i] << " got " << got[i];
        } else {
          // exp within 2 ulp, then one add, one division and one product, each rounded.
          EXPECT_NEAR(got[i], want[i], 6e-7 * std::fabs(want[i])) << "i=" << i << " g=" << gate[i];
        }
      }
    }
  }
}

TEST(OpKernels, AddIsExactlyTheReference) {
  for (Isa isa : vector_isas()) {
    for (std::int64_t n : kLengths) {
      SCOPED_TRACE(std::string(isa_name(isa)) + " n=" + std::to_string(n));
      const std::vector<float> b = random_values(n, 3, 1.0f);
      std::vector<float> want = random_values(n, 4, 1.0f), got = want;
      ref::add(want.data(), b.data(), n);
      select_op_kernels(isa).add(got.data(), b.data(), n);
      EXPECT_EQ(got, want);  // one correctly rounded addition per element either way
    }
  }
}

TEST(OpKernels, RmsnormMatchesReference) {
  for (Isa isa : vector_isas()) {
    for (std::int64_t n : kLengths) {
      if (n == 0) continue;
      SCOPED_TRACE(std::string(isa_name(isa)) + " n=" + std::to_string(n));
      const std::vector<float> x = random_values(n, 5 + static_cast<std::uint32_t>(n), 3.0f);
      const std::vector<float> w = random_values(n, 6, 1.0f);
      std::vector<float> want(n), got(n), in_place = x;
      ref::rmsnorm(x.data(), w.data(), n, 1e-5f, want.data());
      select_op_kernels(isa).rmsnorm(x.data(), w.data(), n, 1e-5f, got.data());
      select_op_kernels(isa).rmsnorm(in_place.data(), w.data(), n, 1e-5f, in_place.data());
      for (std::int64_t i = 0; i < n; ++i) {
        // Same formula; only the order of the double sum of squares differs.
        EXPECT_NEAR(got[i], want[i], 2.5e-7 * std::fabs(want[i])) << "i=" << i;
      }
      EXPECT_EQ(in_place, got);
    }
  }
}

std::vector<float> rope_frequencies(std::int64_t n_rot) {
  std::vector<float> inv_freq(static_cast<std::size_t>(n_rot / 2));
  for (std::size_t i = 0; i < inv_freq.size(); ++i) {
    inv_freq[i] = static_cast<float>(std::pow(10000.0, -2.0 * static_cast<double>(i) / static_cast<double>(n_rot)));
  }
  return inv_freq;
}

TEST(OpKernels, RopeMatchesReference) {
  struct Shape {
    std::int64_t n_heads, head_dim, n_rot;
  };
  // Full rotation, partial rotation (the rest passes through), and widths with vector tails.
  const Shape shapes[] = {{3, 64, 64}, {2, 64, 32}, {2, 128, 128}, {4, 6, 6}, {1, 10, 4}, {2, 40, 36}};
  const std::int64_t positions[] = {0, 1, 17, 4095, 100000};
  ThreadPool pool(1);
  for (Isa isa : supported_isas()) {
    for (const Shape& sh : shapes) {
      for (ref::RopeStyle style : {ref::RopeStyle::kNormal, ref::RopeStyle::kNeox}) {
        const std::vector<float> inv_freq = rope_frequencies(sh.n_rot);
        const ref::RopeParams p{style, sh.n_rot, inv_freq};
        const std::int64_t width = sh.n_heads * sh.head_dim;
        for (std::int64_t pos : positions) {
          SCOPED_TRACE(std::string(isa_name(isa)) + " heads=" + std::to_string(sh.n_heads) + " head_dim=" +
                       std::to_string(sh.head_dim) + " n_rot=" + std::to_string(sh.n_rot) +
                       (style == ref::RopeStyle::kNeox ? " neox" : " normal") + " pos=" + std::to_string(pos));
          const std::vector<float> x = random_values(width, 7 + static_cast<std::uint32_t>(pos), 1.0f);
          std::vector<float> want = x, got = x, table(ops::rope_table_width(p));
          ref::rope(want.data(), sh.n_heads, sh.head_dim, pos, p);
          ops::rope_table(p, pos, 1, table.data());
          ops::rope_rows(select_op_kernels(isa), pool, p, got.data(), 1, sh.n_heads, sh.head_dim, table.data());
          for (std::int64_t i = 0; i < width; ++i) {
            if (i % sh.head_dim >= sh.n_rot) {
              EXPECT_EQ(got[i], x[i]) << "pass-through dim " << i;
            } else {
              // The same products, at most fused differently: a few float roundings of |x| ~ 1.
              EXPECT_NEAR(got[i], want[i], 1e-6) << "i=" << i;
            }
          }
        }
      }
    }
  }
}

// The parallel entry points give exactly what one serial call of the same kernel gives, for
// sizes above and below the share grain.
TEST(OpKernels, ParallelSharesEqualOneSerialCall) {
  ThreadPool pool(3);
  for (Isa isa : vector_isas()) {
    SCOPED_TRACE(std::string(isa_name(isa)));
    const OpKernels& k = select_op_kernels(isa);
    for (std::int64_t n : {std::int64_t{8193}, std::int64_t{200003}}) {
      const std::vector<float> up = random_values(n, 8, 1.0f);
      std::vector<float> serial = random_values(n, 9, 4.0f), parallel = serial;
      k.swiglu(serial.data(), up.data(), n);
      ops::swiglu(k, pool, parallel.data(), up.data(), n);
      EXPECT_EQ(parallel, serial);
      k.add(serial.data(), up.data(), n);
      ops::add(k, pool, parallel.data(), up.data(), n);
      EXPECT_EQ(parallel, serial);
    }
    for (std::int64_t rows : {std::int64_t{1}, std::int64_t{67}}) {
      const std::int64_t n = 2051;
      const std::vector<float> x = random_values(rows * n, 10, 2.0f), w = random_values(n, 11, 1.0f);
      std::vector<float> serial(x.size()), parallel(x.size());
      for (std::int64_t r = 0; r < rows; ++r) k.rmsnorm(x.data() + r * n, w.data(), n, 1e-6f, serial.data() + r * n);
      ops::rmsnorm_rows(k, pool, x.data(), w.data(), rows, n, 1e-6f, parallel.data());
      EXPECT_EQ(parallel, serial);
    }
    const std::int64_t n_tokens = 70, n_heads = 32, head_dim = 64;
    const std::vector<float> inv_freq = rope_frequencies(head_dim);
    const ref::RopeParams p{ref::RopeStyle::kNormal, head_dim, inv_freq};
    std::vector<float> table(n_tokens * ops::rope_table_width(p));
    ops::rope_table(p, 5, n_tokens, table.data());
    std::vector<float> serial = random_values(n_tokens * n_heads * head_dim, 12, 1.0f), parallel = serial;
    for (std::int64_t t = 0; t < n_tokens; ++t) {
      k.rope(serial.data() + t * n_heads * head_dim, n_heads, head_dim, head_dim, false,
             table.data() + t * ops::rope_table_width(p));
    }
    ops::rope_rows(k, pool, p, parallel.data(), n_tokens, n_heads, head_dim, table.data());
    EXPECT_EQ(parallel, serial);
  }
}

}  // namespace
}  // namespace autarky

// Every fast matmul kernel, at every instruction-set level this CPU runs, against a double-
// precision product of the dequantized weights and the activations as the kernel received them
// (after their conversion to the kernel's activation type). This isolates kernel arithmetic from
// the (intended) rounding of activation quantization, so the tolerance can be tight.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernel_sets.h"
#include "kernels/matmul.h"
#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/type_traits.h"
#include "test_support.h"

namespace autarky {
namespace {

std::vector<float> random_values(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

const DType kAllComputeTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1,
                                  DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K,
                                  DType::Q4_K, DType::Q5_K, DType::Q6_K};

// Random weights quantized to `type`: the bytes and the matrix over them.
struct RandomWeights {
  std::vector<std::uint8_t> bytes;
  WeightMatrix m;
};

RandomWeights random_weights(DType type, std::int64_t n_in, std::int64_t n_out, std::uint32_t seed) {
  const auto w = random_values(n_in * n_out, seed);
  RandomWeights r;
  r.bytes.resize(row_bytes(type, n_in) * n_out);
  type_traits(type).from_float(w.data(), r.bytes.data(), n_in * n_out);
  r.m = WeightMatrix{type, r.bytes.data(), n_in, n_out, row_bytes(type, n_in)};
  return r;
}

// Activations as the kernel sees them, turned back into floats: [n_tokens][n_in].
// Half-precision weights take activations rounded to their own type (as llama.cpp does), whatever
// the kernel's activation format.
std::vector<float> activations_as_seen(const MatmulKernel& k, DType weights, const std::vector<float>& x,
                                       std::int64_t n_in, std::int64_t n_tokens) {
  const bool half_weights = weights == DType::F16 || weights == DType::BF16;
  if (k.activation == DType::F32 && !half_weights) return x;
  const DType format = k.activation == DType::F32 ? weights : k.activation;
  const TypeTraits& traits = type_traits(format);
  const FromFloatFn from_float = traits.from_float_fast ? traits.from_float_fast : traits.from_float;
  std::vector<std::uint8_t> q(row_bytes(format, n_in));
  std::vector<float> seen(x.size());
  for (std::int64_t t = 0; t < n_tokens; ++t) {
    from_float(x.data() + t * n_in, q.data(), n_in);
    traits.to_float(q.data(), seen.data() + t * n_in, n_in);
  }
  return seen;
}

// Q8_1 activations (Q4_1 / Q5_1 kernels, as in llama.cpp) carry s = d * sum(q) per block, rounded
// to fp16 from the unrounded scale, and the weights' min term is m_w * s rather than the sum of
// m_w times each dequantized activation. Returns, per token and block, s minus that sum: the
// correction the expected value of a weight row with per-block mins takes.
std::vector<double> q8_1_sum_corrections(const std::vector<float>& x, const std::vector<float>& seen,
                                         std::int64_t n_in, std::int64_t n_tokens) {
  const std::int64_t nb = n_in / kQK;
  std::vector<BlockQ8_1> blocks(static_cast<std::size_t>(nb));
  std::vector<double> out(static_cast<std::size_t>(n_tokens * nb));
  for (std::int64_t t = 0; t < n_tokens; ++t) {
    type_traits(DType::Q8_1).from_float(x.data() + t * n_in, blocks.data(), n_in);
    for (std::int64_t b = 0; b < nb; ++b) {
      double sum = 0;
      for (int i = 0; i < kQK; ++i) sum += seen[t * n_in + b * kQK + i];
      out[t * nb + b] = fp16_to_float(blocks[b].s) - sum;
    }
  }
  return out;
}

void check_kernel(const MatmulKernel& k, DType type, std::int64_t n_in, std::int64_t n_out, std::int64_t n_tokens,
                  ThreadPool& pool) {
  SCOPED_TRACE(std::string(k.name) + " " + std::string(dtype_name(type)) + " n_in=" + std::to_string(n_in) +
               " n_out=" + std::to_string(n_out) + " n_tokens=" + std::to_string(n_tokens));
  const RandomWeights rw = random_weights(type, n_in, n_out, 11 + static_cast<std::uint32_t>(n_out));
  const WeightMatrix& m = rw.m;
  const auto x = random_values(n_in * n_tokens, 23 + static_cast<std::uint32_t>(n_tokens));
  std::vector<float> wd(static_cast<std::size_t>(n_in * n_out));
  type_traits(type).to_float(rw.bytes.data(), wd.data(), n_in * n_out);
  const std::vector<float> xs = activations_as_seen(k, type, x, n_in, n_tokens);
  const bool block_sums = k.activation == DType::Q8_1;
  ASSERT_TRUE(!block_sums || type == DType::Q4_1 || type == DType::Q5_1);
  const std::vector<double> corrections = block_sums ? q8_1_sum_corrections(x, xs, n_in, n_tokens) : std::vector<double>{};

  std::vector<float> y(n_tokens * n_out, NAN);
  matmul_with(k, pool, m, x.data(), n_tokens, y.data());
  for (std::int64_t t = 0; t < n_tokens; ++t) {
    for (std::int64_t o = 0; o < n_out; ++o) {
      double want = 0.0, magnitude = 0.0;
      for (std::int64_t i = 0; i < n_in; ++i) {
        want += double(wd[o * n_in + i]) * xs[t * n_in + i];
        magnitude += std::fabs(double(wd[o * n_in + i]) * xs[t * n_in + i]);
      }
      for (std::int64_t b = 0; block_sums && b < n_in / kQK; ++b) {
        // Q4_1 and Q5_1 blocks both begin with fp16 d, fp16 m.
        std::uint16_t m16;
        std::memcpy(&m16, rw.bytes.data() + o * m.row_bytes + b * layout(type).block_bytes + 2, 2);
        want += fp16_to_float(m16) * corrections[t * (n_in / kQK) + b];
      }
      // Float accumulation in any order: error grows with the sum of |terms|. Half-precision
      // activations (F16/BF16 kernels) are already folded into xs.
      ASSERT_NEAR(y[t * n_out + o], want, 2e-5 * magnitude + 1e-5) << "t=" << t << " o=" << o;
    }
  }
}

TEST(MatmulKernels, EveryFastKernelMatchesTheDequantizedProduct) {
  ThreadPool pool(2);
  int checked = 0;
  for (Isa isa : supported_isas()) {
    if (isa == Isa::kRef) continue;
    for (DType type : kAllComputeTypes) {
      const MatmulKernel k = select_matmul_kernel(type, isa);
      if (k.rows == nullptr || k.isa == Isa::kRef || k.isa != isa) continue;  // each kernel once, at its level
      for (std::int64_t n_tokens : {1, 2, 5, 16, 37}) {
        for (std::int64_t n_out : {1, 7, 16, 67}) check_kernel(k, type, 512, n_out, n_tokens, pool);
      }
      check_kernel(k, type, 256 * 11, 19, 3, pool);  // long rows: accumulation over many blocks
      for (std::int64_t n_tokens : {1, 7, 9}) {
        check_kernel(k, type, 256, 64, n_tokens, pool);  // single-block rows (tiny models)
        check_kernel(k, type, 768, 35, n_tokens, pool);
      }
      if (layout(type).block_size == 32) {
        // Odd block counts (decode kernels take blocks in pairs): one block, and 25 blocks; and
        // rows whose last group of four blocks is partial (2 and 11 blocks: AVX2 reduces blocks
        // in fours).
        for (std::int64_t n_tokens : {1, 2, 3}) {
          check_kernel(k, type, 32, 21, n_tokens, pool);
          check_kernel(k, type, 800, 35, n_tokens, pool);
          check_kernel(k, type, 64, 9, n_tokens, pool);
          check_kernel(k, type, 352, 9, n_tokens, pool);
        }
      }
      if (layout(type).block_size == 1) {
        // Rows that end inside a vector (masked tails of the float-type kernels).
        check_kernel(k, type, 200, 9, 7, pool);
        check_kernel(k, type, 37, 5, 2, pool);
        // Prompt-sized: dozens of tokens and rows (whole and partial token blocks and row tiles on
        // both threads), with an input dimension that ends inside a vector.
        check_kernel(k, type, 300, 70, 40, pool);
        check_kernel(k, type, 37, 5, 33, pool);  // prompt path: one partial panel, inputs past a vector
      }
      ++checked;
    }
  }
  RecordProperty("kernels_checked", checked);
}

// F16 and BF16 weights see activations rounded to their precision (ggml's vec_dot_type, which
// llama.cpp converts activations to): with one-hot weight rows, each output is one activation as
// the kernel used it, which must be that activation rounded to nearest even, at every level, for
// decode and prompt paths, over magnitudes from subnormal halves to near the F16 maximum.
TEST(MatmulKernels, HalfPrecisionWeightsTakeActivationsRoundedToTheirType) {
  ThreadPool pool(2);
  const std::int64_t n = 300;  // not a multiple of any vector width
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-26, 12);  // up to ~2^14: no F16 overflow to Inf
  for (DType type : {DType::F16, DType::BF16}) {
    std::vector<float> eye(static_cast<std::size_t>(n * n), 0.0f);
    for (std::int64_t i = 0; i < n; ++i) eye[i * n + i] = 1.0f;
    std::vector<std::uint8_t> bytes(row_bytes(type, n) * n);
    type_traits(type).from_float(eye.data(), bytes.data(), n * n);
    const WeightMatrix m{type, bytes.data(), n, n, row_bytes(type, n)};
    for (std::int64_t n_tokens : {1, 3, 40}) {
      std::vector<float> x(static_cast<std::size_t>(n * n_tokens));
      for (float& v : x) v = std::ldexp(normal(rng), exponent(rng));
      x[0] = 0.0f;
      x[1] = 1.0f + 0x1p-11f;  // a tie for F16: stays 1
      x[2] = 1.0f + 0x1p-8f;   // a tie for BF16: stays 1
      x[3] = 1.0f + 3 * 0x1p-11f;  // 1.5 F16 ulps: rounds up to the even 1 + 2^-9
      std::vector<float> want(x.size());
      std::vector<std::uint8_t> q(row_bytes(type, n * n_tokens));
      type_traits(type).from_float(x.data(), q.data(), n * n_tokens);
      type_traits(type).to_float(q.data(), want.data(), n * n_tokens);
      for (Isa isa : supported_isas()) {
        const MatmulKernel k = select_matmul_kernel(type, isa);
        SCOPED_TRACE(std::string(k.name) + " n_tokens=" + std::to_string(n_tokens));
        std::vector<float> y(x.size(), NAN);
        matmul_with(k, pool, m, x.data(), n_tokens, y.data());
        for (std::size_t i = 0; i < y.size(); ++i) ASSERT_EQ(y[i], want[i]) << "x=" << x[i] << " i=" << i;
      }
    }
  }
}

// The AVX-512 BF16 kernel of CPUs without AVX512_BF16 (widening to F32), which the tests above
// do not reach on a CPU that has it: the same checks of its products and batching.
TEST(MatmulKernels, Avx512Bf16KernelWithoutBf16Instructions) {
  const std::vector<Isa> isas = supported_isas();
  if (std::find(isas.begin(), isas.end(), Isa::kAvx512) == isas.end()) {
    GTEST_SKIP() << "no AVX-512";
  }
  CpuFeatures without = cpu_features();
  without.avx512_bf16 = false;
  const MatmulKernel* found = kernel_sets::avx512(DType::BF16, without);
  ASSERT_NE(found, nullptr);
  const MatmulKernel k = *found;
  ASSERT_EQ(k.activation, DType::F32) << k.name;
  ThreadPool one(1), two(2);
  for (std::int64_t n_tokens : {1, 2, 7, 37}) check_kernel(k, DType::BF16, 300, 35, n_tokens, two);
  check_kernel(k, DType::BF16, 37, 5, 33, two);
  const std::int64_t n_in = 301, n_out = 70, n_tokens = 45;
  const RandomWeights rw = random_weights(DType::BF16, n_in, n_out, 5);
  const auto x = random_values(n_in * n_tokens, 6);
  std::vector<float> whole(n_tokens * n_out), alone(n_tokens * n_out);
  matmul_with(k, two, rw.m, x.data(), n_tokens, whole.data());
  for (std::int64_t t = 0; t < n_tokens; ++t) matmul_with(k, one, rw.m, x.data() + t * n_in, 1, alone.data() + t * n_out);
  for (std::int64_t i = 0; i < n_tokens * n_out; ++i) ASSERT_EQ(whole[i], alone[i]) << "token " << i / n_out;
}

// Kernels that repack weights at load time (MatmulKernel::pack) must give, from the repacked
// copy, the bits they give from the file's rows, for every token count (each has its own path:
// 1, 2, up to a token group, more) and when the last 16-row panel is partly padding.
TEST(MatmulKernels, RepackedWeightsGiveTheBitsOfTheFileRows) {
  ThreadPool one(1), two(2);
  int checked = 0;
  for (Isa isa : supported_isas()) {
    for (DType type : kAllComputeTypes) {
      const MatmulKernel k = select_matmul_kernel(type, isa);
      if (k.pack == nullptr || k.isa != isa) continue;
      ASSERT_NE(k.packed_rows, nullptr) << k.name;
      const std::int64_t block = layout(type).block_size;
      for (std::int64_t n_in : {block * 40, block * 33, block * 2}) {
        for (std::int64_t n_out : {std::int64_t{16}, std::int64_t{70}, std::int64_t{3}}) {
          const std::int64_t n_tokens = 45;
          SCOPED_TRACE(std::string(k.name) + " n_in=" + std::to_string(n_in) + " n_out=" + std::to_string(n_out));
          const RandomWeights rw = random_weights(type, n_in, n_out, 8);
          const WeightMatrix& m = rw.m;
          const std::vector<std::uint8_t>& q = rw.bytes;
          const auto x = random_values(n_in * n_tokens, 9);
          std::vector<std::uint8_t> packed_bytes(k.packed_bytes(m) + 1, 0xA5);  // + 1: a guard byte
          ASSERT_GE(k.packed_bytes(m), q.size());
          const WeightMatrix packed = repack_weights_into(k, two, m, packed_bytes.data());
          ASSERT_TRUE(packed.repacked);
          ASSERT_EQ(packed_bytes.back(), 0xA5) << "pack wrote past packed_bytes()";
          ASSERT_NE(std::vector<std::uint8_t>(packed_bytes.begin(), packed_bytes.begin() + q.size()), q)
              << "the layout is the file's: nothing was repacked";

          std::vector<float> want(n_tokens * n_out), got(n_tokens * n_out, NAN);
          matmul_with(k, two, m, x.data(), n_tokens, want.data());
          std::int64_t t0 = 0;
          for (std::int64_t chunk : {1, 2, 3, 8, 9, 22}) {  // 45 tokens in all
            matmul_with(k, chunk % 2 ? one : two, packed, x.data() + t0 * n_in, chunk, got.data() + t0 * n_out);
            t0 += chunk;
          }
          ASSERT_EQ(t0, n_tokens);
          for (std::int64_t i = 0; i < n_tokens * n_out; ++i) {
            ASSERT_EQ(got[i], want[i]) << "token " << i / n_out << " row " << i % n_out;
          }
          ++checked;
        }
      }
    }
  }
  RecordProperty("repacked_cases_checked", checked);
}

// The engine's logits must not depend on how a sequence's tokens are batched or how many
// threads run (a server batches requests freely): every kernel gives each token the same bits
// whether it comes alone, in a short chunk or in a prompt-sized call, which may take another
// micro-kernel (the float kernels' prompt panels, the K-quant GEMM tiles).
TEST(MatmulKernels, ResultsDoNotDependOnHowTokensAreBatched) {
  ThreadPool one(1), two(2);
  for (Isa isa : supported_isas()) {
    if (isa == Isa::kRef) continue;
    for (DType type : kAllComputeTypes) {
      const MatmulKernel k = select_matmul_kernel(type, isa);
      if (k.rows == nullptr || k.isa == Isa::kRef || k.isa != isa) continue;
      // Float types: rows ending inside a vector and on a vector boundary, and an odd length (half
      // of the last BF16 pair). Block types: more
      // blocks than one 32-block chunk, and odd block counts (some kernels take blocks in pairs):
      // 5 K-quant super-blocks; 40, 33 and 25 legacy blocks.
      const std::int64_t block = layout(type).block_size;
      const std::vector<std::int64_t> sizes = block == 1    ? std::vector<std::int64_t>{300, 256, 301}
                                              : block == 32 ? std::vector<std::int64_t>{1280, 1056, 800}
                                                            : std::vector<std::int64_t>{1280};
      for (std::int64_t n_in : sizes) {
        const std::int64_t n_out = 70, n_tokens = 45;
        SCOPED_TRACE(std::string(k.name) + " " + std::string(dtype_name(type)) + " n_in=" + std::to_string(n_in));
        const RandomWeights rw = random_weights(type, n_in, n_out, 5);
        const WeightMatrix& m = rw.m;
        const auto x = random_values(n_in * n_tokens, 6);

        std::vector<float> whole(n_tokens * n_out), split(n_tokens * n_out), alone(n_tokens * n_out);
        matmul_with(k, two, m, x.data(), n_tokens, whole.data());
        // Chunks of 2, 1 and 3 tokens (decode-sized; some kernels have paths for 1 and 2), 7 (short)
        // and 32 tokens (prompt-sized).
        std::int64_t t0 = 0;
        for (std::int64_t chunk : {2, 1, 3, 7, 32}) {
          matmul_with(k, one, m, x.data() + t0 * n_in, chunk, split.data() + t0 * n_out);
          t0 += chunk;
        }
        ASSERT_EQ(t0, n_tokens);
        for (std::int64_t t = 0; t < n_tokens; ++t)
          matmul_with(k, two, m, x.data() + t * n_in, 1, alone.data() + t * n_out);
        for (std::int64_t i = 0; i < n_tokens * n_out; ++i) {
          ASSERT_EQ(whole[i], alone[i]) << "token " << i / n_out << " row " << i % n_out;
          ASSERT_EQ(whole[i], split[i]) << "token " << i / n_out << " row " << i % n_out;
        }
      }
    }
  }
}

TEST(MatmulKernels, RowRangesWriteOnlyTheirRows) {
  for (Isa isa : supported_isas()) {
    for (DType type : kAllComputeTypes) {
      const MatmulKernel k = select_matmul_kernel(type, isa);
      if (k.rows == nullptr || k.isa != isa) continue;
      SCOPED_TRACE(std::string(k.name) + " " + std::string(dtype_name(type)));
      const std::int64_t m_rows = std::max<std::int64_t>(k.row_multiple, 1);
      const std::int64_t n_in = 256, n_out = 5 * m_rows + 3, n_tokens = 3;
      const RandomWeights rw = random_weights(type, n_in, n_out, 5);
      const WeightMatrix& m = rw.m;
      const auto x = random_values(n_in * n_tokens, 6);
      std::vector<std::uint8_t> xa;
      std::uint64_t xrb = n_in * sizeof(float);
      if (k.activation == DType::F32) {
        xa.assign(reinterpret_cast<const std::uint8_t*>(x.data()),
                  reinterpret_cast<const std::uint8_t*>(x.data() + x.size()));
      } else {
        xrb = row_bytes(k.activation, n_in);
        xa.resize(xrb * n_tokens);
        for (std::int64_t t = 0; t < n_tokens; ++t)
          type_traits(k.activation).from_float_fast(x.data() + t * n_in, xa.data() + t * xrb, n_in);
      }
      const std::int64_t begin = m_rows, end = 3 * m_rows;  // whole tiles, away from both ends
      std::vector<float> y(n_tokens * n_out, -7.0f);
      k.rows(m, xa.data(), xrb, n_tokens, y.data(), n_out, begin, end);
      for (std::int64_t t = 0; t < n_tokens; ++t) {
        for (std::int64_t o = 0; o < n_out; ++o) {
          const bool inside = o >= begin && o < end;
          EXPECT_EQ(y[t * n_out + o] == -7.0f, !inside) << "t=" << t << " o=" << o;
        }
      }
    }
  }
}

// Kernels may bring their own activation conversion; the test above assumes it writes exactly
// what the trait table's from_float_fast writes. Blocks of ordinary values, zeros, values whose
// scale is a subnormal half, and values whose scale clamps at the largest half.
TEST(MatmulKernels, OwnActivationConversionsMatchTheTraitTable) {
  const std::int64_t n = 32 * 64;
  std::vector<float> x = random_values(n, 77);
  for (std::int64_t i = 0; i < 32; ++i) x[i] = 0.0f;
  for (std::int64_t i = 32; i < 64; ++i) x[i] *= 1e-6f;
  for (std::int64_t i = 64; i < 96; ++i) x[i] *= 1e7f;
  for (std::int64_t i = 96; i < 128; ++i) x[i] = (i % 2 ? 0.5f : -0.5f) * 127.0f / 64.0f;  // exact ties
  // Q8_K (256-value blocks): an all-zero block; equal magnitudes of both signs (the first one
  // decides the scale's sign), either order; codes that fall exactly between two integers.
  for (std::int64_t i = 256; i < 512; ++i) x[i] = 0.0f;
  x[600] = -3.0f, x[601] = 3.0f;
  x[800] = 5.0f, x[900] = -5.0f;
  for (std::int64_t i = 1024; i < 1280; ++i) x[i] = static_cast<float>(i % 11 - 5) / 128.0f;
  x[1100] = -2.0f;  // scale 2/128: x * inv = (i % 11 - 5) / 2, ties for odd values
  int checked = 0;
  for (Isa isa : supported_isas()) {
    for (DType type : kAllComputeTypes) {
      const MatmulKernel k = select_matmul_kernel(type, isa);
      if (k.rows == nullptr || k.isa != isa || k.convert == nullptr) continue;
      SCOPED_TRACE(std::string(k.name));
      const std::uint64_t rb = row_bytes(k.activation, n);
      std::vector<std::uint8_t> want(rb), got(rb);
      type_traits(k.activation).from_float_fast(x.data(), want.data(), n);
      k.convert(x.data(), got.data(), n);
      EXPECT_EQ(got, want);
      ++checked;
    }
  }
  RecordProperty("conversions_checked", checked);
}

TEST(MatmulKernels, DefaultIsaIsSupported) {
  const auto isas = supported_isas();
  EXPECT_NE(std::find(isas.begin(), isas.end(), default_isa()), isas.end());
  EXPECT_EQ(isas.front(), Isa::kRef);
}

}  // namespace
}  // namespace autarky

// Properties of the scalar reference kernels, checked against straightforward double-precision
// formulas or mathematical invariants rather than stored outputs.

#include <cmath>
#include <numeric>
#include <random>

#include "kernels/matmul.h"
#include "kernels/ref/attention_ref.h"
#include "kernels/ref/ops_ref.h"
#include "tensor/fp16.h"
#include "tensor/type_traits.h"
#include "test_support.h"

namespace autarky {
namespace {

std::vector<float> random_vector(std::size_t n, std::uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

TEST(RefKernels, MatmulF32MatchesDoublePrecisionProduct) {
  const std::int64_t n_in = 96, n_out = 37, n_tokens = 5;
  auto w = random_vector(n_in * n_out, 1), x = random_vector(n_in * n_tokens, 2);
  WeightMatrix m{DType::F32, reinterpret_cast<const std::uint8_t*>(w.data()), n_in, n_out, n_in * sizeof(float)};
  std::vector<float> y(n_tokens * n_out);
  ThreadPool pool(3);
  matmul(pool, m, x.data(), n_tokens, y.data());
  for (std::int64_t t = 0; t < n_tokens; ++t) {
    for (std::int64_t o = 0; o < n_out; ++o) {
      double want = 0.0;
      for (std::int64_t i = 0; i < n_in; ++i) want += double(w[o * n_in + i]) * x[t * n_in + i];
      EXPECT_NEAR(y[t * n_out + o], want, 1e-4) << t << "," << o;
    }
  }
}

TEST(RefKernels, MatmulQuantizedEqualsMatmulOfDequantizedRows) {
  const std::int64_t n_in = 256, n_out = 8, n_tokens = 3;
  for (DType type : {DType::Q8_0, DType::Q4_K, DType::F16}) {
    if (!can_quantize(type) || !can_dequantize(type)) continue;
    SCOPED_TRACE(std::string(dtype_name(type)));
    auto w = random_vector(n_in * n_out, 3), x = random_vector(n_in * n_tokens, 4);
    std::vector<std::uint8_t> q(row_bytes(type, n_in) * n_out);
    type_traits(type).from_float(w.data(), q.data(), n_in * n_out);
    std::vector<float> deq(w.size());
    type_traits(type).to_float(q.data(), deq.data(), n_in * n_out);
    WeightMatrix mq{type, q.data(), n_in, n_out, row_bytes(type, n_in)};
    WeightMatrix mf{DType::F32, reinterpret_cast<const std::uint8_t*>(deq.data()), n_in, n_out, n_in * sizeof(float)};
    std::vector<float> yq(n_tokens * n_out), yf(n_tokens * n_out);
    ThreadPool pool(2);
    // The scalar reference on both: fast kernels quantize activations (checked in matmul_isa_test).
    // Half-precision weights take activations rounded to their type, at every level.
    std::vector<float> x_seen = x;
    if (type == DType::F16) {
      std::vector<std::uint8_t> xh(row_bytes(type, n_in * n_tokens));
      type_traits(type).from_float(x.data(), xh.data(), n_in * n_tokens);
      type_traits(type).to_float(xh.data(), x_seen.data(), n_in * n_tokens);
    }
    matmul_with(select_matmul_kernel(type, Isa::kRef), pool, mq, x.data(), n_tokens, yq.data());
    matmul_with(select_matmul_kernel(DType::F32, Isa::kRef), pool, mf, x_seen.data(), n_tokens, yf.data());
    EXPECT_EQ(yq, yf);
  }
}

TEST(RefKernels, RmsnormGivesUnitRootMeanSquare) {
  auto x = random_vector(64, 5, 3.0f);
  std::vector<float> ones(64, 1.0f), out(64);
  ref::rmsnorm(x.data(), ones.data(), 64, 0.0f, out.data());
  double sq = 0.0;
  for (float v : out) sq += double(v) * v;
  EXPECT_NEAR(std::sqrt(sq / 64), 1.0, 1e-5);
}

TEST(RefKernels, SoftmaxIsADistributionAndKeepsOrder) {
  auto x = random_vector(100, 6, 10.0f);
  auto p = x;
  ref::softmax(p.data(), 100);
  EXPECT_NEAR(std::accumulate(p.begin(), p.end(), 0.0), 1.0, 1e-5);
  for (int i = 1; i < 100; ++i) EXPECT_EQ(x[i] > x[0], p[i] > p[0]);
}

// RoPE rotates pairs, so norms are kept, position 0 is the identity, and the dot product of a
// rotated query and key depends only on the distance between their positions.
TEST(RefKernels, RopeIsARelativePositionRotation) {
  const std::int64_t head_dim = 16, n_rot = 12;
  std::vector<float> inv_freq(n_rot / 2);
  for (std::size_t i = 0; i < inv_freq.size(); ++i) inv_freq[i] = std::pow(10000.0f, -2.0f * i / n_rot);
  for (auto style : {ref::RopeStyle::kNormal, ref::RopeStyle::kNeox}) {
    ref::RopeParams p{style, n_rot, inv_freq};
    auto q = random_vector(head_dim, 7), k = random_vector(head_dim, 8);
    auto q0 = q;
    ref::rope(q0.data(), 1, head_dim, 0, p);
    EXPECT_EQ(q0, q);
    auto rotated_dot = [&](std::int64_t pq, std::int64_t pk) {
      auto a = q, b = k;
      ref::rope(a.data(), 1, head_dim, pq, p);
      ref::rope(b.data(), 1, head_dim, pk, p);
      double d = 0.0;
      for (std::int64_t i = 0; i < head_dim; ++i) d += double(a[i]) * b[i];
      return d;
    };
    EXPECT_NEAR(rotated_dot(10, 7), rotated_dot(3, 0), 1e-4);
    EXPECT_NEAR(rotated_dot(25, 5), rotated_dot(20, 0), 1e-4);
    auto r = q;
    ref::rope(r.data(), 1, head_dim, 13, p);
    double n0 = 0.0, n1 = 0.0;
    for (std::int64_t i = 0; i < head_dim; ++i) n0 += double(q[i]) * q[i], n1 += double(r[i]) * r[i];
    EXPECT_NEAR(n0, n1, 1e-4);
    for (std::int64_t i = n_rot; i < head_dim; ++i) EXPECT_EQ(r[i], q[i]);  // unrotated tail
  }
}

// With a single key the softmax weight is 1, so attention returns that key's value row; with
// GQA every query head of a group reads its shared KV head.
TEST(RefKernels, AttentionOverOneKeyReturnsItsValue) {
  ref::AttentionShape s{4, 2, 8, 8, 0.35f};
  auto q = random_vector(4 * 8, 9);
  auto kf = random_vector(2 * 8, 10), vf = random_vector(2 * 8, 11);
  std::vector<std::uint16_t> k(kf.size()), v(vf.size());
  for (std::size_t i = 0; i < kf.size(); ++i) k[i] = float_to_fp16(kf[i]), v[i] = float_to_fp16(vf[i]);
  std::vector<float> out(4 * 8);
  ThreadPool pool(2);
  ref::attention(pool, s, q.data(), 1, 0, k.data(), v.data(), out.data());
  for (int h = 0; h < 4; ++h) {
    for (int d = 0; d < 8; ++d) EXPECT_EQ(out[h * 8 + d], fp16_to_float(v[(h / 2) * 8 + d])) << h << "," << d;
  }
}

TEST(ThreadPool, CoversEveryIndexOnce) {
  ThreadPool pool(4);
  for (std::int64_t n : {1, 3, 10, 1000}) {
    std::vector<int> hits(n, 0);
    pool.parallel_for(n, 2, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) ++hits[i];
    });
    for (int h : hits) EXPECT_EQ(h, 1);
  }
  EXPECT_GE(physical_core_count(), 1);
}

}  // namespace
}  // namespace autarky

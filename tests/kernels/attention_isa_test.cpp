// The fast attention kernels of every instruction-set level this CPU runs, against the scalar
// reference (ref::attention). They perform the same roundings in the same order, so outputs
// agree to float rounding; the rare exception is a softmax weight that sits on an fp16 rounding
// tie, where a one-ulp difference in exp moves it by one fp16 step (relative 2^-11).

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/attention.h"
#include "tensor/fp16.h"
#include "test_support.h"

namespace autarky {
namespace {

struct Case {
  AttentionShape shape;
  std::int64_t n_tokens;
  std::int64_t pos0;
};

std::vector<std::uint16_t> random_halves(std::size_t n, float sigma, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<std::uint16_t> h(n);
  for (auto& x : h) x = float_to_fp16(dist(rng));
  return h;
}

std::vector<float> random_floats(std::size_t n, float sigma, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

struct Inputs {
  std::vector<float> q;                // [n_tokens][n_head * head_dim_k]
  std::vector<std::uint16_t> k, v;     // [pos0 + n_tokens][n_head_kv * head_dim]
};

Inputs make_inputs(const Case& c, float q_sigma, std::uint32_t seed) {
  const AttentionShape& s = c.shape;
  const auto n_keys = static_cast<std::size_t>(c.pos0 + c.n_tokens);
  return {random_floats(static_cast<std::size_t>(c.n_tokens * s.n_head * s.head_dim_k), q_sigma, seed),
          random_halves(n_keys * s.n_head_kv * s.head_dim_k, 1.0f, seed + 1),
          random_halves(n_keys * s.n_head_kv * s.head_dim_v, 1.0f, seed + 2)};
}

std::vector<float> run(const AttentionKernel& kernel, const Case& c, const Inputs& in, ThreadPool& pool) {
  std::vector<float> out(static_cast<std::size_t>(c.n_tokens * c.shape.n_head * c.shape.head_dim_v), -1.0f);
  attention_with(kernel, pool, c.shape, KvLayout::interleaved(c.shape), in.q.data(), c.n_tokens, c.pos0, in.k.data(),
                 in.v.data(), out.data());
  return out;
}

// The same cache rows in KvCache's layout: one block of `capacity` rows per KV head, more than
// the keys (so the head stride differs from the number of keys), the unused rows NaN.
std::vector<std::uint16_t> to_head_major(const std::vector<std::uint16_t>& rows, std::int64_t n_head_kv,
                                         std::int64_t head_dim, std::int64_t n_keys, std::int64_t capacity) {
  std::vector<std::uint16_t> out(static_cast<std::size_t>(n_head_kv * capacity * head_dim), 0x7e00);
  for (std::int64_t h = 0; h < n_head_kv; ++h) {
    for (std::int64_t j = 0; j < n_keys; ++j) {
      for (std::int64_t d = 0; d < head_dim; ++d) {
        out[static_cast<std::size_t>((h * capacity + j) * head_dim + d)] =
            rows[static_cast<std::size_t>((j * n_head_kv + h) * head_dim + d)];
      }
    }
  }
  return out;
}

std::vector<float> run_head_major(const AttentionKernel& kernel, const Case& c, const Inputs& in, ThreadPool& pool) {
  const AttentionShape& s = c.shape;
  const std::int64_t n_keys = c.pos0 + c.n_tokens, capacity = n_keys + 5;
  const auto k = to_head_major(in.k, s.n_head_kv, s.head_dim_k, n_keys, capacity);
  const auto v = to_head_major(in.v, s.n_head_kv, s.head_dim_v, n_keys, capacity);
  std::vector<float> out(static_cast<std::size_t>(c.n_tokens * s.n_head * s.head_dim_v), -1.0f);
  attention_with(kernel, pool, s, KvLayout::head_major(s, capacity), in.q.data(), c.n_tokens, c.pos0, k.data(),
                 v.data(), out.data());
  return out;
}

std::string describe(const AttentionKernel& kernel, const Case& c) {
  const AttentionShape& s = c.shape;
  return std::string(kernel.name) + " heads " + std::to_string(s.n_head) + "/" + std::to_string(s.n_head_kv) +
         " dims " + std::to_string(s.head_dim_k) + "/" + std::to_string(s.head_dim_v) + " tokens " +
         std::to_string(c.n_tokens) + " pos0 " + std::to_string(c.pos0);
}

// GQA groups of 1, 3 (15 of 16 lanes used), 4, 7 (two tokens per block) and 32 (a group split
// over two blocks); head sizes that are and are not multiples of the vector width; prompts, single
// decode steps, and caches longer than one key tile.
const Case kCases[] = {
    {{4, 4, 8, 8, 0.35f}, 7, 0},       {{8, 2, 64, 64, 0.125f}, 33, 0},   {{8, 2, 64, 64, 0.125f}, 1, 130},
    {{6, 2, 40, 24, 0.158f}, 7, 3},    {{32, 1, 16, 16, 0.25f}, 3, 70},  {{14, 2, 64, 64, 0.125f}, 5, 200},
    {{32, 8, 64, 64, 0.125f}, 20, 45}, {{2, 1, 128, 128, 0.088f}, 1, 0},
};

TEST(AttentionKernels, EveryLevelMatchesTheReference) {
  ThreadPool pool(2);
  const AttentionKernel reference = select_attention_kernel(Isa::kRef);
  for (Isa isa : supported_isas()) {
    const AttentionKernel kernel = select_attention_kernel(isa);
    if (kernel.block == nullptr) continue;
    for (const Case& c : kCases) {
      SCOPED_TRACE(describe(kernel, c));
      const Inputs in = make_inputs(c, 2.0f, static_cast<std::uint32_t>(c.n_tokens * 31 + c.pos0));
      const auto want = run(reference, c, in, pool);
      const auto got = run(kernel, c, in, pool);
      // The cache layout changes where rows are read, never what is computed.
      EXPECT_EQ(run_head_major(kernel, c, in, pool), got);
      EXPECT_EQ(run_head_major(reference, c, in, pool), want);
      std::size_t loose = 0;
      double max_diff = 0.0;
      for (std::size_t i = 0; i < want.size(); ++i) {
        const double diff = std::fabs(double(got[i]) - want[i]);
        max_diff = std::max(max_diff, diff);
        if (diff > 1e-5) ++loose;
      }
      // Values are ~N(0,1): a weight moved by one fp16 step changes an output by < 2^-11 * |v|.
      EXPECT_LE(max_diff, 2e-3);
      EXPECT_LE(loose, want.size() / 1000) << "max diff " << max_diff;
    }
  }
}

// A query's output must not depend on which other queries share its call: a prompt computed in
// one call, token by token (the decode path, one position per block) or in uneven chunks gives the
// same bits, so a token's logits do not change with how the server batched or split it. GQA groups
// of 1, 2, 3, 4, 7, 8 and 32 cover every way a decode step fills the vector lanes.
TEST(AttentionKernels, ResultsDoNotDependOnHowTokensAreSplit) {
  ThreadPool pool(2);
  const AttentionShape shapes[] = {{4, 4, 64, 64, 0.125f},   {8, 4, 40, 24, 0.158f},  {6, 2, 64, 64, 0.125f},
                                   {32, 8, 64, 64, 0.125f},  {14, 2, 128, 128, 0.088f}, {16, 2, 8, 8, 0.35f},
                                   {32, 1, 16, 16, 0.25f}};
  for (Isa isa : supported_isas()) {
    const AttentionKernel kernel = select_attention_kernel(isa);
    for (const AttentionShape& s : shapes) {
      const Case whole{s, 23, 150};
      SCOPED_TRACE(describe(kernel, whole));
      const Inputs in = make_inputs(whole, 2.0f, 11);
      const auto want = run(kernel, whole, in, pool);
      const KvLayout layout = KvLayout::interleaved(s);
      const std::int64_t q_row = s.n_head * s.head_dim_k, out_row = s.n_head * s.head_dim_v;
      for (std::int64_t chunk : {1, 2, 5}) {
        std::vector<float> got(want.size(), -1.0f);
        for (std::int64_t t = 0; t < whole.n_tokens; t += chunk) {
          const std::int64_t n = std::min(chunk, whole.n_tokens - t);
          attention_with(kernel, pool, s, layout, in.q.data() + t * q_row, n, whole.pos0 + t, in.k.data(),
                         in.v.data(), got.data() + t * out_row);
        }
        EXPECT_EQ(got, want) << "chunks of " << chunk;
      }
    }
  }
}

// With one key the softmax weight is exactly 1, so every query head returns its KV head's value
// row bit for bit; huge scores must not overflow the softmax.
TEST(AttentionKernels, OneKeyReturnsItsValueAndHugeScoresStayFinite) {
  ThreadPool pool(2);
  for (Isa isa : supported_isas()) {
    const AttentionKernel kernel = select_attention_kernel(isa);
    SCOPED_TRACE(std::string(kernel.name));
    const Case one{{8, 2, 24, 24, 0.2f}, 1, 0};
    const Inputs in = make_inputs(one, 1.0f, 5);
    const auto out = run(kernel, one, in, pool);
    for (int h = 0; h < 8; ++h) {
      for (int d = 0; d < 24; ++d) ASSERT_EQ(out[h * 24 + d], fp16_to_float(in.v[(h / 4) * 24 + d])) << h << "," << d;
    }
    const Case huge{{4, 1, 32, 32, 1000.0f}, 9, 50};
    const auto hot = run(kernel, huge, make_inputs(huge, 30.0f, 6), pool);
    for (float x : hot) ASSERT_TRUE(std::isfinite(x));
  }
}

}  // namespace
}  // namespace autarky

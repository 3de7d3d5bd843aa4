#include "kernels/ref/attention_ref.h"

#include <algorithm>
#include <vector>

#include "kernels/ref/ops_ref.h"
#include "tensor/fp16.h"

namespace autarky::ref {
namespace {

// Rounds to the nearest fp16 value, kept as float.
float round_to_half(float x) { return fp16_to_float(float_to_fp16(x)); }

float dot_half_row(const float* q_rounded, const std::uint16_t* k, std::int64_t n) {
  float sum = 0.0f;
  for (std::int64_t d = 0; d < n; ++d) sum += q_rounded[d] * fp16_to_float(k[d]);
  return sum;
}

}  // namespace

void attention(ThreadPool& pool, const AttentionShape& s, const KvLayout& layout, const float* q,
               std::int64_t n_tokens, std::int64_t pos0, const std::uint16_t* k, const std::uint16_t* v, float* out) {
  const std::int64_t group = s.n_head / s.n_head_kv;
  const std::int64_t q_stride = s.n_head * s.head_dim_k;
  const std::int64_t out_stride = s.n_head * s.head_dim_v;
  // One work item per (token, head); each needs the scores over at most pos0 + n_tokens keys.
  pool.parallel_for(n_tokens * s.n_head, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> scores(static_cast<std::size_t>(pos0 + n_tokens));  // [n_keys]
    std::vector<float> q_half(static_cast<std::size_t>(s.head_dim_k));       // [head_dim_k]
    for (std::int64_t item = begin; item < end; ++item) {
      const std::int64_t t = item / s.n_head, h = item % s.n_head;
      const std::int64_t kv_h = h / group;
      const std::int64_t n_keys = pos0 + t + 1;
      const float* qh = q + t * q_stride + h * s.head_dim_k;
      for (std::int64_t d = 0; d < s.head_dim_k; ++d) q_half[d] = round_to_half(qh[d]);
      for (std::int64_t j = 0; j < n_keys; ++j) {
        const std::uint16_t* kj = k + kv_h * layout.k_head_stride + j * layout.k_row_stride;
        scores[j] = dot_half_row(q_half.data(), kj, s.head_dim_k) * s.scale;
      }
      softmax(scores.data(), n_keys);
      float* oh = out + t * out_stride + h * s.head_dim_v;
      std::fill(oh, oh + s.head_dim_v, 0.0f);
      for (std::int64_t j = 0; j < n_keys; ++j) {
        const float w = round_to_half(scores[j]);
        const std::uint16_t* vj = v + kv_h * layout.v_head_stride + j * layout.v_row_stride;
        for (std::int64_t d = 0; d < s.head_dim_v; ++d) oh[d] += w * fp16_to_float(vj[d]);
      }
    }
  });
}

}  // namespace autarky::ref

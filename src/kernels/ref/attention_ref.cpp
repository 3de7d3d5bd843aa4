#include "kernels/ref/attention_ref.h"

#include <algorithm>
#include <vector>

#include "kernels/ref/matmul_ref.h"
#include "kernels/ref/ops_ref.h"

namespace autarky::ref {

void attention(ThreadPool& pool, const AttentionShape& s, const float* q, std::int64_t n_tokens, std::int64_t pos0,
               const float* k, const float* v, float* out) {
  const std::int64_t group = s.n_head / s.n_head_kv;
  const std::int64_t q_stride = s.n_head * s.head_dim_k;
  const std::int64_t k_stride = s.n_head_kv * s.head_dim_k;
  const std::int64_t v_stride = s.n_head_kv * s.head_dim_v;
  const std::int64_t out_stride = s.n_head * s.head_dim_v;
  // One work item per (token, head); each needs the scores over at most pos0 + n_tokens keys.
  pool.parallel_for(n_tokens * s.n_head, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> scores(static_cast<std::size_t>(pos0 + n_tokens));  // [n_keys]
    for (std::int64_t item = begin; item < end; ++item) {
      const std::int64_t t = item / s.n_head, h = item % s.n_head;
      const std::int64_t kv_h = h / group;
      const std::int64_t n_keys = pos0 + t + 1;
      const float* qh = q + t * q_stride + h * s.head_dim_k;
      for (std::int64_t j = 0; j < n_keys; ++j) {
        scores[j] = dot_f32(qh, k + j * k_stride + kv_h * s.head_dim_k, s.head_dim_k) * s.scale;
      }
      softmax(scores.data(), n_keys);
      float* oh = out + t * out_stride + h * s.head_dim_v;
      std::fill(oh, oh + s.head_dim_v, 0.0f);
      for (std::int64_t j = 0; j < n_keys; ++j) {
        const float w = scores[j];
        const float* vj = v + j * v_stride + kv_h * s.head_dim_v;
        for (std::int64_t d = 0; d < s.head_dim_v; ++d) oh[d] += w * vj[d];
      }
    }
  });
}

}  // namespace autarky::ref

#include "kv/kv_cache.h"

#include "base/error.h"
#include "tensor/fp16.h"

namespace autarky {

KvCache::KvCache(const KvCacheShape& shape) : shape_(shape) {
  AUTARKY_ASSERT(shape.n_layer > 0 && shape.n_ctx > 0 && shape.k_width > 0 && shape.v_width > 0 &&
                 shape.n_head_kv > 0 && shape.k_width % shape.n_head_kv == 0 && shape.v_width % shape.n_head_kv == 0);
  k_.assign(static_cast<std::size_t>(shape.n_layer * shape.n_ctx * shape.k_width), 0);
  v_.assign(static_cast<std::size_t>(shape.n_layer * shape.n_ctx * shape.v_width), 0);
}

}  // namespace autarky

namespace autarky {

void KvCache::store(std::int64_t layer, std::int64_t pos, std::int64_t n_pos, const float* keys, const float* values) {
  AUTARKY_ASSERT(layer >= 0 && layer < shape_.n_layer && pos >= 0 && pos + n_pos <= shape_.n_ctx,
                 "store of {} rows at {} in layer {} of a cache of {}", n_pos, pos, layer, shape_.n_ctx);
  store_rows(k_.data() + layer_offset(layer, shape_.k_width), keys, shape_.k_width, pos, n_pos);
  store_rows(v_.data() + layer_offset(layer, shape_.v_width), values, shape_.v_width, pos, n_pos);
}

// Scatters rows of all KV heads side by side ([n_pos][width]) into the per-head blocks of a layer.
void KvCache::store_rows(std::uint16_t* layer, const float* rows, std::int64_t width, std::int64_t pos,
                         std::int64_t n_pos) const {
  const std::int64_t head_dim = width / shape_.n_head_kv;
  for (std::int64_t h = 0; h < shape_.n_head_kv; ++h) {
    std::uint16_t* dst = layer + (h * shape_.n_ctx + pos) * head_dim;
    for (std::int64_t t = 0; t < n_pos; ++t) {
      const float* src = rows + t * width + h * head_dim;
      for (std::int64_t d = 0; d < head_dim; ++d) dst[t * head_dim + d] = float_to_fp16(src[d]);
    }
  }
}

}  // namespace autarky

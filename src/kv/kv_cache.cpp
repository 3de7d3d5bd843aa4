#include "kv/kv_cache.h"

#include "base/error.h"
#include "tensor/fp16.h"

namespace autarky {

KvCache::KvCache(const KvCacheShape& shape) : shape_(shape) {
  AUTARKY_ASSERT(shape.n_layer > 0 && shape.n_ctx > 0 && shape.k_width > 0 && shape.v_width > 0);
  k_.assign(static_cast<std::size_t>(shape.n_layer * shape.n_ctx * shape.k_width), 0);
  v_.assign(static_cast<std::size_t>(shape.n_layer * shape.n_ctx * shape.v_width), 0);
}

}  // namespace autarky

namespace autarky {

void KvCache::store(std::int64_t layer, std::int64_t pos, std::int64_t n_pos, const float* keys, const float* values) {
  AUTARKY_ASSERT(layer >= 0 && layer < shape_.n_layer && pos >= 0 && pos + n_pos <= shape_.n_ctx,
                 "store of {} rows at {} in layer {} of a cache of {}", n_pos, pos, layer, shape_.n_ctx);
  std::uint16_t* k_dst = k(layer, pos);
  for (std::int64_t i = 0; i < n_pos * shape_.k_width; ++i) k_dst[i] = float_to_fp16(keys[i]);
  std::uint16_t* v_dst = v(layer, pos);
  for (std::int64_t i = 0; i < n_pos * shape_.v_width; ++i) v_dst[i] = float_to_fp16(values[i]);
}

}  // namespace autarky

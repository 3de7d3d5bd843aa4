#include "kv/kv_cache.h"

#include "base/error.h"

namespace autarky {

KvCache::KvCache(const KvCacheShape& shape) : shape_(shape) {
  AUTARKY_ASSERT(shape.n_layer > 0 && shape.n_ctx > 0 && shape.k_width > 0 && shape.v_width > 0);
  k_.assign(static_cast<std::size_t>(shape.n_layer * shape.n_ctx * shape.k_width), 0.0f);
  v_.assign(static_cast<std::size_t>(shape.n_layer * shape.n_ctx * shape.v_width), 0.0f);
}

}  // namespace autarky

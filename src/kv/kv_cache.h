#pragma once
// Keys and values of every layer for the positions a session has evaluated. Sized once to the
// context the session asked for; writing past it is an Error, never a silent wrap-around.
// Stored as IEEE half precision: half the memory of f32, and the precision llama.cpp (our
// reference for exactness) keeps its cache in by default. Each layer holds one block of n_ctx
// rows per KV head ([n_head_kv][n_ctx][head_dim]): attention reads one KV head's keys at a time,
// and contiguous rows stream from memory at full speed where rows a whole position apart did not.

#include <cstdint>
#include <vector>

namespace autarky {

struct KvCacheShape {
  std::int64_t n_layer = 0;
  std::int64_t n_ctx = 0;      // positions
  std::int64_t k_width = 0;    // n_head_kv * head_dim_k
  std::int64_t v_width = 0;    // n_head_kv * head_dim_v
  std::int64_t n_head_kv = 0;  // divides k_width and v_width
};

class KvCache {
 public:
  explicit KvCache(const KvCacheShape& shape);
  KvCache(const KvCache&) = delete;  // a cache can be large: copies must be explicit
  KvCache& operator=(const KvCache&) = delete;
  KvCache(KvCache&&) = default;
  KvCache& operator=(KvCache&&) = default;

  const KvCacheShape& shape() const { return shape_; }
  std::int64_t n_ctx() const { return shape_.n_ctx; }
  std::uint64_t bytes() const { return (k_.size() + v_.size()) * sizeof(std::uint16_t); }

  std::int64_t head_dim_k() const { return shape_.k_width / shape_.n_head_kv; }
  std::int64_t head_dim_v() const { return shape_.v_width / shape_.n_head_kv; }

  // Start of layer `layer`: [n_head_kv][n_ctx][head_dim] fp16 values, key j of KV head h at
  // k_layer(layer) + (h * n_ctx + j) * head_dim_k() (ref::KvLayout::head_major).
  const std::uint16_t* k_layer(std::int64_t layer) const { return k_.data() + layer_offset(layer, shape_.k_width); }
  const std::uint16_t* v_layer(std::int64_t layer) const { return v_.data() + layer_offset(layer, shape_.v_width); }

  // Rounds n_pos rows of keys / values ([n_pos][k_width], [n_pos][v_width], KV heads side by side)
  // into the cache at positions [pos, pos + n_pos).
  void store(std::int64_t layer, std::int64_t pos, std::int64_t n_pos, const float* keys, const float* values);

 private:
  std::size_t layer_offset(std::int64_t layer, std::int64_t width) const {
    return static_cast<std::size_t>(layer * shape_.n_ctx * width);
  }
  void store_rows(std::uint16_t* layer, const float* rows, std::int64_t width, std::int64_t pos,
                  std::int64_t n_pos) const;
  KvCacheShape shape_;
  std::vector<std::uint16_t> k_;  // [n_layer][n_head_kv][n_ctx][head_dim_k] fp16
  std::vector<std::uint16_t> v_;  // [n_layer][n_head_kv][n_ctx][head_dim_v] fp16
};

}  // namespace autarky

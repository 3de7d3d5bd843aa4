#pragma once
// Keys and values of every layer for the positions a session has evaluated. Sized once to the
// context the session asked for; writing past it is an Error, never a silent wrap-around.
// Stored as IEEE half precision: half the memory of f32, and the precision llama.cpp (our
// reference for exactness) keeps its cache in by default.

#include <cstdint>
#include <vector>

namespace autarky {

struct KvCacheShape {
  std::int64_t n_layer = 0;
  std::int64_t n_ctx = 0;      // positions
  std::int64_t k_width = 0;    // n_head_kv * head_dim_k
  std::int64_t v_width = 0;    // n_head_kv * head_dim_v
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

  // Start of layer `layer` at position `pos`; rows of k_width / v_width fp16 values follow.
  std::uint16_t* k(std::int64_t layer, std::int64_t pos) { return k_.data() + offset(layer, pos, shape_.k_width); }
  std::uint16_t* v(std::int64_t layer, std::int64_t pos) { return v_.data() + offset(layer, pos, shape_.v_width); }

  // Rounds n_pos rows of keys / values ([n_pos][k_width], [n_pos][v_width]) into the cache.
  void store(std::int64_t layer, std::int64_t pos, std::int64_t n_pos, const float* keys, const float* values);

 private:
  std::size_t offset(std::int64_t layer, std::int64_t pos, std::int64_t width) const {
    return static_cast<std::size_t>((layer * shape_.n_ctx + pos) * width);
  }
  KvCacheShape shape_;
  std::vector<std::uint16_t> k_;  // [n_layer][n_ctx][k_width] fp16
  std::vector<std::uint16_t> v_;  // [n_layer][n_ctx][v_width] fp16
};

}  // namespace autarky

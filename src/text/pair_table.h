#pragma once
// A flat open-addressing hash table from a pair of token ids to a pair of ints (a merge's rank
// and result). Merge loops look pairs up millions of times per second; node-based maps with
// string keys cost a cache miss or two per lookup, this costs about one.

#include <cstdint>
#include <utility>
#include <vector>

namespace autarky::text {

class PairTable {
 public:
  struct Value {
    std::int32_t a;
    std::int32_t b;
  };

  static std::uint64_t key(std::int32_t left, std::int32_t right) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) | static_cast<std::uint32_t>(right);
  }

  // Builds the table; when a key repeats, its first value is kept.
  void build(const std::vector<std::pair<std::uint64_t, Value>>& entries) {
    std::size_t capacity = 16;
    while (capacity < entries.size() * 2) capacity *= 2;
    shift_ = 64 - __builtin_ctzll(capacity);
    mask_ = capacity - 1;
    keys_.assign(capacity, kEmpty);
    values_.assign(capacity, Value{0, 0});
    for (const auto& [k, v] : entries) {
      std::uint64_t slot = hash(k);
      while (keys_[slot] != kEmpty && keys_[slot] != k) slot = (slot + 1) & mask_;
      if (keys_[slot] == k) continue;
      keys_[slot] = k;
      values_[slot] = v;
    }
  }

  const Value* find(std::int32_t left, std::int32_t right) const {
    if (keys_.empty()) return nullptr;
    const std::uint64_t k = key(left, right);
    for (std::uint64_t slot = hash(k);; slot = (slot + 1) & mask_) {
      if (keys_[slot] == k) return &values_[slot];
      if (keys_[slot] == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr std::uint64_t kEmpty = ~0ull;  // the pair (-1, -1), never looked up
  std::uint64_t hash(std::uint64_t k) const {
    // Keys differ mostly in their low bits within each half; mix before taking the top bits.
    k ^= k >> 33;
    k *= 0xFF51AFD7ED558CCDull;
    k ^= k >> 33;
    return (k * 0x9E3779B97F4A7C15ull) >> shift_;
  }

  std::vector<std::uint64_t> keys_;
  std::vector<Value> values_;
  std::uint64_t mask_ = 0;
  int shift_ = 64;
};

}  // namespace autarky::text

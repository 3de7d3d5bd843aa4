#pragma once
// Byte-level BPE (tokenizer.ggml.model = "gpt2"): the pre-tokenizer cuts text into words, each
// word starts as one symbol per byte, and the adjacent pair with the lowest merge rank is merged
// until no listed merge applies. Merges are looked up by token-id pairs in a flat hash table, and
// long words use a heap instead of rescanning, so the cost per word is O(n log n).

#include <cstdint>
#include <string_view>
#include <vector>

#include "text/pretokenizer.h"
#include "text/vocab.h"

namespace autarky::text {

class BpeModel {
 public:
  BpeModel(const Vocab& vocab, const PreTokenizerSpec& spec);

  // Appends the tokens of `text` (valid UTF-8 containing no special-token matches).
  void encode(std::string_view text, std::vector<std::int32_t>& out) const;

 private:
  struct Merge {
    std::int32_t rank;
    std::int32_t result;
  };
  // Open-addressing table from (left id, right id) to the merge they form.
  class MergeTable {
   public:
    void build(std::vector<std::pair<std::uint64_t, Merge>> entries);
    const Merge* find(std::int32_t left, std::int32_t right) const;

   private:
    static std::uint64_t key(std::int32_t l, std::int32_t r) {
      return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(l)) << 32) | static_cast<std::uint32_t>(r);
    }
    std::vector<std::uint64_t> keys_;
    std::vector<Merge> values_;
    std::uint64_t mask_ = 0;
    int shift_ = 64;
  };

  void encode_word(std::string_view word, std::vector<std::int32_t>& out) const;
  void merge_small(std::vector<std::int32_t>& syms) const;
  void merge_large(std::vector<std::int32_t>& syms) const;

  const Vocab& vocab_;
  RegexSplitter splitter_;
  bool ignore_merges_;
  std::int32_t byte_token_[256];  // token of each byte's byte-level character, -1 if absent
  MergeTable merges_;
};

}  // namespace autarky::text

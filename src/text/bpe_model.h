#pragma once
// Byte-level BPE (tokenizer.ggml.model = "gpt2"): the pre-tokenizer cuts text into words, each
// word starts as one symbol per byte, and the adjacent pair with the lowest merge rank is merged
// until no listed merge applies. Merges are looked up by token-id pairs in a flat hash table, and
// long words use a heap instead of rescanning, so the cost per word is O(n log n).

#include <cstdint>
#include <string_view>
#include <vector>

#include "text/pair_table.h"
#include "text/pretokenizer.h"
#include "text/vocab.h"

namespace autarky::text {

class BpeModel {
 public:
  BpeModel(const Vocab& vocab, const PreTokenizerSpec& spec);

  // Appends the tokens of `text` (valid UTF-8 containing no special-token matches).
  void encode(std::string_view text, std::vector<std::int32_t>& out) const;

 private:
  static constexpr std::size_t kSmallWord = 32;  // longer words use the heap
  void encode_word(std::string_view word, std::vector<std::int32_t>& syms, std::vector<std::int32_t>& out) const;
  void merge_small(std::vector<std::int32_t>& syms) const;
  void merge_large(std::vector<std::int32_t>& syms) const;

  const Vocab& vocab_;
  RegexSplitter splitter_;
  bool ignore_merges_;
  std::int32_t byte_token_[256];  // token of each byte's byte-level character, -1 if absent
  PairTable merges_;  // (left, right) -> {rank, result}
};

}  // namespace autarky::text

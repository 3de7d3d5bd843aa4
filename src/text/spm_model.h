#pragma once
// SentencePiece-style BPE (tokenizer.ggml.model = "llama"): spaces are spelled U+2581 ("▁"), the
// text starts as one symbol per character, and the adjacent pair whose concatenation is the
// highest-scoring token is merged until no pair forms a token. Characters left without a token
// fall back to byte tokens <0xNN>.
//
// Pairs are looked up by token ids in a table built from the vocabulary (every way of cutting a
// token into two tokens), so the merge loop does no string hashing; only a character that is not
// a token by itself takes the slower string path.
//
// Words: when no token has "▁" right after another character (true of vocabularies trained with
// SentencePiece's split_by_whitespace, Llama's and Phi-3's among them), no merge can join the
// character before such a "▁" to it. The text is then cut there and each word merged on its own,
// which gives the same tokens (merges in different words never interact) in short, cache-friendly
// loops. Other vocabularies are merged as one sequence.

#include <cstdint>
#include <string_view>
#include <vector>

#include "text/pair_table.h"
#include "text/vocab.h"

namespace autarky::text {

class SpmModel {
 public:
  explicit SpmModel(const Vocab& vocab);

  // Appends the tokens of `text` (valid UTF-8, no special-token matches). `after_special` says
  // whether the text starts the input or follows a special token: that is where SentencePiece
  // puts its leading space (when the vocabulary asks for one).
  void encode(std::string_view text, bool after_special, std::vector<std::int32_t>& out) const;

  // Whether text is cut into words before merging (see above); for tests.
  bool merges_words_separately() const { return words_are_independent_; }

 private:
  static constexpr std::size_t kSmallWord = 32;  // words with more characters use the heap
  struct Symbol {
    std::uint32_t begin, length;  // bytes of the escaped word
    std::int32_t id;              // token of the symbol's text, -1 for a character that is not a token
  };
  struct Merge {
    std::uint32_t priority;  // order-preserving bits of the merged token's score; 0: no merge
    std::int32_t id;         // the merged token
  };

  // Token for a piece of escaped text, or -1. Control, unknown and byte tokens are never formed
  // from text: they only enter through special-token parsing or byte fallback.
  std::int32_t piece_token(std::string_view piece) const;
  Merge find_merge(std::string_view word, const Symbol& left, const Symbol& right) const;
  void encode_word(std::string_view word, std::vector<Symbol>& syms, std::vector<std::int32_t>& out) const;
  void merge_small(std::string_view word, std::vector<Symbol>& syms) const;
  void merge_large(std::string_view word, std::vector<Symbol>& syms) const;
  void emit(std::string_view word, const Symbol& s, std::vector<std::int32_t>& out) const;

  const Vocab& vocab_;
  std::int32_t byte_tokens_[256];
  std::int32_t ascii_tokens_[128];  // token of each one-byte character, -1 if none
  PairTable char_tokens_;           // (code point, 0) -> {token, 0} for multi-byte characters
  PairTable pairs_;                 // (left, right) -> {merged token, its score as float bits}
  bool words_are_independent_ = false;
};

}  // namespace autarky::text

#pragma once
// SentencePiece-style BPE (tokenizer.ggml.model = "llama"): spaces are spelled U+2581 ("▁"), the
// text starts as one symbol per character, and the adjacent pair whose concatenation is the
// highest-scoring token is merged until no pair forms a token. Characters left without a token
// fall back to byte tokens <0xNN>.
//
// Pairs are looked up by token ids in a table built from the vocabulary (every way of cutting a
// token into two tokens), so the merge loop does no string hashing; only a character that is not
// a token by itself takes the slower string path.

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

 private:
  // Token for a piece of escaped text, or -1. Control, unknown and byte tokens are never formed
  // from text: they only enter through special-token parsing or byte fallback.
  std::int32_t piece_token(std::string_view piece) const;
  void emit_bytes(std::string_view piece, std::vector<std::int32_t>& out) const;

  const Vocab& vocab_;
  std::int32_t byte_tokens_[256];
  PairTable pairs_;  // (left, right) -> {merged token, its score as float bits}
  std::int32_t ascii_tokens_[128];  // token of each one-byte character, -1 if none
};

}  // namespace autarky::text

#pragma once
// Finding special tokens inside text before it is tokenized. User-defined tokens (added
// vocabulary entries) are always matched, as in the reference tokenizers; control and unknown
// tokens ("<s>", "<|im_end|>") only when the caller asks to parse specials, so plain user text can
// never smuggle a control token in. Longer tokens take precedence over shorter ones.

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/vocab.h"

namespace autarky::text {

struct Fragment {
  std::int32_t token = -1;  // a matched special token, or -1 for raw text
  std::size_t offset = 0;   // raw text: span of the input
  std::size_t length = 0;
};

class SpecialTokenMatcher {
 public:
  explicit SpecialTokenMatcher(const Vocab& vocab);

  // Splits `text` into raw-text fragments and special tokens, in order. Whitespace next to a
  // token with a strip flag is dropped.
  std::vector<Fragment> partition(std::string_view text, bool parse_special) const;

 private:
  struct Occurrence {
    std::size_t rank;  // position of the token in the longest-first order
    std::size_t pos;
  };
  std::vector<Occurrence> find_occurrences(std::string_view text, bool parse_special) const;

  const Vocab& vocab_;
  // Candidates grouped by their first two bytes (tokens of one byte under their only byte), each
  // group holding ranks into vocab_.special_by_length.
  std::unordered_map<std::uint16_t, std::vector<std::size_t>> by_prefix_;
  std::vector<std::size_t> by_single_byte_[256];
  bool first_byte_[256] = {};
};

}  // namespace autarky::text

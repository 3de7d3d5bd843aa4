#pragma once
// A tokenizer vocabulary as stored in GGUF metadata (tokenizer.ggml.*): token texts, scores,
// types, merges, special ids and flags. Everything the tokenizers need comes from here; nothing
// is hard-wired per model except the few name-based conventions llama.cpp-made GGUF files rely on
// (listed in vocab.cpp, each with the reason).

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace autarky {
class GgufFile;
}

namespace autarky::text {

// Token attributes. GGUF stores one token *type* per token (tokenizer.ggml.token_type, numbered
// 1..6 as below); the strip flags are added by naming conventions.
enum TokenAttr : std::uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1u << 0,
  kAttrUnused = 1u << 1,
  kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
  kAttrLstrip = 1u << 6,  // whitespace before the token is dropped when it is matched in text
  kAttrRstrip = 1u << 7,  // whitespace after the token is dropped
};

enum class VocabType { kSpm, kBpe };

struct TokenData {
  std::string text;
  float score = 0.0f;
  std::uint32_t attr = kAttrNormal;
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct Vocab {
  VocabType type = VocabType::kSpm;
  std::string model_name;      // tokenizer.ggml.model ("llama", "gpt2")
  std::string pre_name;        // tokenizer.ggml.pre ("default" when absent)
  std::vector<TokenData> tokens;
  std::vector<std::string> merges;  // BPE only, in rank order ("left right")

  std::int32_t bos_id = -1;
  std::int32_t eos_id = -1;
  std::int32_t eot_id = -1;
  std::int32_t eom_id = -1;
  std::int32_t unk_id = -1;
  std::int32_t pad_id = -1;
  std::int32_t sep_id = -1;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;  // SPM: a space is put in front of the text (and of text after a special token)

  // Tokens that end generation: eos, eot, eom and the end-of-turn tokens recognized by text.
  std::unordered_set<std::int32_t> eog_ids;
  // Control, user-defined and unknown tokens, longest text first: the candidates for matching
  // special tokens inside text before it is tokenized.
  std::vector<std::int32_t> special_by_length;

  std::int32_t n_tokens() const { return static_cast<std::int32_t>(tokens.size()); }
  // Id of the token whose text is exactly `text` (the last one if several share it), or -1.
  std::int32_t find(std::string_view text) const;
  std::uint32_t attr(std::int32_t id) const { return tokens[static_cast<std::size_t>(id)].attr; }

  static Vocab from_gguf(const GgufFile& file);

  std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>> token_to_id;
};

}  // namespace autarky::text

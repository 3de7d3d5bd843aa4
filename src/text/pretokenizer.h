#pragma once
// Pre-tokenizers of byte-level BPE vocabularies: the regular expressions that cut text into words
// before merges are applied, selected by the GGUF key tokenizer.ggml.pre. Several vocabularies
// use a *sequence* of splits: each expression cuts the pieces left by the previous one, and both
// the matches and the text between matches become pieces.

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace autarky::text {

struct PreTokenizerSpec {
  std::vector<std::string_view> names;     // tokenizer.ggml.pre values that select it
  std::vector<std::string_view> patterns;  // PCRE2 syntax, applied in order
  bool ignore_merges = false;  // a word that is itself a token is emitted whole (Llama 3 style)
  bool adds_bos = false;       // default for add_bos_token when the file does not say
};

// The spec for `pre_name`; unknown names fall back to "default" with a warning naming `file`.
const PreTokenizerSpec& pre_tokenizer_for(std::string_view pre_name, std::string_view file);

struct TextSpan {
  std::size_t offset;
  std::size_t length;
};

// Compiled (PCRE2, UTF + UCP, JIT) form of a pattern sequence. Thread-safe: split() is const and
// keeps its scratch state on the caller's side.
class RegexSplitter {
 public:
  explicit RegexSplitter(const std::vector<std::string_view>& patterns);
  ~RegexSplitter();
  RegexSplitter(const RegexSplitter&) = delete;
  RegexSplitter& operator=(const RegexSplitter&) = delete;

  // Appends the pieces of `text` (valid UTF-8) to `out`, as spans of `text`, in order. Pieces
  // cover the text without gaps.
  void split(std::string_view text, std::vector<TextSpan>& out) const;

 private:
  struct Compiled;
  std::vector<std::unique_ptr<Compiled>> stages_;
};

}  // namespace autarky::text

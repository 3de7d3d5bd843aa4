#pragma once
// Text to token ids and back, for the vocabulary stored in a GGUF file. This is the interface the
// engine and the server use; the algorithms live in spm_model / bpe_model / special_tokens.
//
//   auto tok = Tokenizer::from_gguf(file);
//   std::vector<int32_t> ids = tok->encode(prompt, /*add_special=*/true, /*parse_special=*/true);
//   StreamingDecoder out(*tok);  // see streaming_decoder.h, for generated tokens
//
// A Tokenizer is immutable after construction; all const methods are safe to call from several
// threads at once.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "text/vocab.h"

namespace autarky {
class GgufFile;
}

namespace autarky::text {

class SpmModel;
class BpeModel;
class SpecialTokenMatcher;

struct DecodeOptions {
  bool render_special = false;  // print control tokens ("<|im_end|>") instead of nothing
  // Drop the space SentencePiece vocabularies put in front of the first word. Right when `ids`
  // start a text (a prompt, a whole completion); wrong for a chunk in the middle of one.
  bool strip_leading_space = true;
};

class Tokenizer {
 public:
  static std::unique_ptr<Tokenizer> from_gguf(const GgufFile& file);
  explicit Tokenizer(Vocab vocab);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Token ids of `text`. add_special: BOS/EOS as the vocabulary asks (add_bos/add_eos_token).
  // parse_special: control tokens written in the text ("<|im_start|>") become their ids; when
  // false they are tokenized as ordinary characters. Invalid UTF-8 is replaced by U+FFFD.
  std::vector<std::int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

  // The bytes one token stands for (may be part of a UTF-8 character). Control and unknown tokens
  // give "" unless render_special. Throws Error for an id outside the vocabulary.
  std::string token_to_piece(std::int32_t id, bool render_special = false) const;
  // The token's text as stored in the vocabulary ("▁Hello", "Ġworld", "<0x0A>").
  const std::string& token_text(std::int32_t id) const;

  // Concatenated pieces; invalid UTF-8 (a sequence cut off at the end) is replaced by U+FFFD.
  std::string decode(std::span<const std::int32_t> ids, DecodeOptions options = {}) const;

  std::int32_t n_vocab() const { return vocab_.n_tokens(); }
  std::int32_t bos() const { return vocab_.bos_id; }
  std::int32_t eos() const { return vocab_.eos_id; }
  bool add_bos() const { return vocab_.add_bos; }
  bool add_eos() const { return vocab_.add_eos; }
  bool is_eog(std::int32_t id) const { return vocab_.eog_ids.count(id) > 0; }
  bool is_control(std::int32_t id) const;
  // Whether decoding puts a leading space in front of the first word (SentencePiece).
  bool strips_leading_space() const { return vocab_.add_space_prefix; }
  const Vocab& vocab() const { return vocab_; }

 private:
  void check_id(std::int32_t id) const;

  Vocab vocab_;
  std::unique_ptr<SpecialTokenMatcher> specials_;
  std::unique_ptr<SpmModel> spm_;
  std::unique_ptr<BpeModel> bpe_;
  std::vector<std::string> pieces_;  // token_to_piece of every token, rendered as plain text
};

}  // namespace autarky::text

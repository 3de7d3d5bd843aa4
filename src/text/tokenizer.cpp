#include "text/tokenizer.h"

#include "base/error.h"
#include "gguf/gguf_file.h"
#include "text/bpe_model.h"
#include "text/byte_level.h"
#include "text/special_tokens.h"
#include "text/spm_model.h"
#include "text/utf8.h"

namespace autarky::text {
namespace {

constexpr std::size_t kMaxInputBytes = std::size_t{1} << 31;

std::string spm_piece(const TokenData& t) {
  if (t.attr & kAttrByte) {
    // "<0xNN>"
    if (t.text.size() == 6 && t.text.compare(0, 3, "<0x") == 0) {
      return std::string(1, static_cast<char>(std::stoi(t.text.substr(3, 2), nullptr, 16)));
    }
    return t.text;
  }
  if (t.attr & kAttrNormal) {
    std::string out;
    out.reserve(t.text.size());
    for (std::size_t i = 0; i < t.text.size();) {
      if (t.text.compare(i, 3, "\xE2\x96\x81") == 0) {
        out += ' ';
        i += 3;
      } else {
        out += t.text[i++];
      }
    }
    return out;
  }
  return t.text;  // user-defined (and, when rendered, control/unknown) tokens print as written
}

std::string bpe_piece(const TokenData& t) {
  if (t.attr & kAttrNormal) return byte_level_to_bytes(t.text);
  return t.text;
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const GgufFile& file) {
  return std::make_unique<Tokenizer>(Vocab::from_gguf(file));
}

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {
  specials_ = std::make_unique<SpecialTokenMatcher>(vocab_);
  if (vocab_.type == VocabType::kSpm) {
    spm_ = std::make_unique<SpmModel>(vocab_);
  } else {
    bpe_ = std::make_unique<BpeModel>(vocab_, pre_tokenizer_for(vocab_.pre_name, vocab_.model_name));
  }
  pieces_.reserve(vocab_.tokens.size());
  for (const TokenData& t : vocab_.tokens) {
    pieces_.push_back(vocab_.type == VocabType::kSpm ? spm_piece(t) : bpe_piece(t));
  }
}

Tokenizer::~Tokenizer() = default;

std::vector<std::int32_t> Tokenizer::encode(std::string_view input, bool add_special, bool parse_special) const {
  if (input.size() >= kMaxInputBytes) fail("tokenize: input of {} bytes is too long (limit {})", input.size(), kMaxInputBytes);
  std::string repaired;
  std::string_view text = input;
  if (!is_valid_utf8(input)) {
    repaired = repair_utf8(input);
    text = repaired;
  }

  std::vector<std::int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special && vocab_.add_bos) out.push_back(vocab_.bos_id);
  bool after_special = true;  // the start of the text counts as following a special token
  for (const Fragment& f : specials_->partition(text, parse_special)) {
    if (f.token >= 0) {
      out.push_back(f.token);
      after_special = true;
      continue;
    }
    const std::string_view raw = text.substr(f.offset, f.length);
    if (spm_) {
      spm_->encode(raw, after_special, out);
    } else {
      bpe_->encode(raw, out);
    }
    after_special = false;
  }
  if (add_special && vocab_.add_eos) out.push_back(vocab_.eos_id);
  return out;
}

void Tokenizer::check_id(std::int32_t id) const {
  if (id < 0 || id >= vocab_.n_tokens()) fail("token id {} is outside the vocabulary (size {})", id, vocab_.n_tokens());
}

bool Tokenizer::is_control(std::int32_t id) const {
  check_id(id);
  return (vocab_.attr(id) & (kAttrControl | kAttrUnknown)) != 0;
}

std::string Tokenizer::token_to_piece(std::int32_t id, bool render_special) const {
  check_id(id);
  if (!render_special && (vocab_.attr(id) & (kAttrControl | kAttrUnknown))) return {};
  return pieces_[static_cast<std::size_t>(id)];
}

const std::string& Tokenizer::token_text(std::int32_t id) const {
  check_id(id);
  return vocab_.tokens[static_cast<std::size_t>(id)].text;
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids, DecodeOptions options) const {
  std::string out;
  bool strip = options.strip_leading_space && vocab_.add_space_prefix;
  for (std::int32_t id : ids) {
    std::string piece = token_to_piece(id, options.render_special);
    if (piece.empty()) continue;
    if (strip && piece[0] == ' ') piece.erase(0, 1);
    strip = false;
    out += piece;
  }
  return is_valid_utf8(out) ? out : repair_utf8(out);
}

}  // namespace autarky::text

#include "text/streaming_decoder.h"

#include "text/utf8.h"

namespace autarky::text {

StreamingDecoder::StreamingDecoder(const Tokenizer& tokenizer, bool strip_leading_space, bool render_special)
    : tokenizer_(tokenizer),
      strip_next_space_(strip_leading_space && tokenizer.strips_leading_space()),
      render_special_(render_special) {}

std::string StreamingDecoder::push(std::int32_t id) {
  std::string piece = tokenizer_.token_to_piece(id, render_special_);
  if (piece.empty()) return {};
  if (strip_next_space_ && pending_.empty() && piece[0] == ' ') piece.erase(0, 1);
  strip_next_space_ = false;
  pending_ += piece;
  const std::size_t ready = complete_prefix_length(pending_);
  if (ready == 0) return {};
  std::string out = repair_utf8(std::string_view(pending_).substr(0, ready));
  pending_.erase(0, ready);
  return out;
}

std::string StreamingDecoder::finish() {
  std::string out = repair_utf8(pending_);
  pending_.clear();
  return out;
}

}  // namespace autarky::text

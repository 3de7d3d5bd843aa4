#pragma once
// Turns generated tokens into text as they arrive, without ever emitting a broken character: a
// token may carry only part of a UTF-8 character (byte-fallback tokens, byte-level BPE pieces of
// a Chinese character or an emoji), so bytes are held back until the character is complete.
// Bytes that can never become a character are replaced by U+FFFD, immediately if the damage is
// certain, or at finish() if the stream ends inside a character.

#include <cstdint>
#include <string>

#include "text/tokenizer.h"

namespace autarky::text {

class StreamingDecoder {
 public:
  // strip_leading_space: the stream starts a text (see DecodeOptions); set it to false when the
  // stream continues a prompt, so the space before the first generated word is kept.
  explicit StreamingDecoder(const Tokenizer& tokenizer, bool strip_leading_space = false, bool render_special = false);

  // Adds one token; returns the text that became complete (possibly empty).
  std::string push(std::int32_t id);
  // Ends the stream; returns what was still held back (incomplete bytes become U+FFFD).
  std::string finish();

  // Bytes held back because they may be the start of a character.
  std::size_t pending_bytes() const { return pending_.size(); }

 private:
  const Tokenizer& tokenizer_;
  bool strip_next_space_;
  bool render_special_;
  std::string pending_;
};

}  // namespace autarky::text

#pragma once
// UTF-8 helpers shared by the tokenizers and the streaming decoder. Text from the outside world is
// not trusted to be valid UTF-8: it is repaired (each invalid byte becomes U+FFFD) before any
// tokenizer looks at it, so the tokenizers can step through code points without bounds surprises.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace autarky::text {

constexpr char32_t kReplacementChar = 0xFFFD;

// Length in bytes of the well-formed UTF-8 sequence starting at s[pos] (1..4), or 0 when the bytes
// there are not a complete, well-formed sequence (stray continuation byte, overlong form,
// surrogate, value above U+10FFFF, or truncated at the end of `s`).
std::size_t valid_sequence_length(std::string_view s, std::size_t pos);

// Decodes the well-formed sequence of `len` bytes at s[pos] (len from valid_sequence_length).
char32_t decode_sequence(std::string_view s, std::size_t pos, std::size_t len);

// Appends the UTF-8 encoding of `cp`; a value that is not a Unicode scalar (a surrogate or
// above U+10FFFF, e.g. from a template's \U escape) becomes U+FFFD.
void append_utf8(std::string& out, char32_t cp);

bool is_valid_utf8(std::string_view s);

// Copy of `s` in which every byte that does not start a well-formed sequence is replaced by
// U+FFFD (one replacement per bad byte, as llama.cpp and most decoders do).
std::string repair_utf8(std::string_view s);

// Length of the longest prefix of `s` that does not end inside an incomplete-but-possibly-valid
// sequence: bytes after it could still become a character when more bytes arrive.
std::size_t complete_prefix_length(std::string_view s);

}  // namespace autarky::text

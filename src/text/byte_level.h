#pragma once
// GPT-2's byte-level alphabet: byte-level BPE vocabularies spell every byte as a printable code
// point, so that token texts are readable strings ("Ġ" is the byte 0x20). Printable Latin-1 bytes
// stand for themselves; the other 68 bytes map, in increasing order, to U+0100 onwards.

#include <cstdint>
#include <string>
#include <string_view>

namespace autarky::text {

char32_t byte_to_codepoint(std::uint8_t byte);
// The byte `cp` stands for, or -1 when `cp` is not part of the alphabet.
int codepoint_to_byte(char32_t cp);

// Byte-level spelling of raw bytes, and back. Code points outside the alphabet are kept as their
// own UTF-8 on the way back (such texts only occur in malformed vocabularies).
std::string bytes_to_byte_level(std::string_view bytes);
std::string byte_level_to_bytes(std::string_view text);

}  // namespace autarky::text

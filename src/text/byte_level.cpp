#include "text/byte_level.h"

#include <array>

#include "text/utf8.h"

namespace autarky::text {
namespace {

bool maps_to_itself(int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255); }

struct Alphabet {
  std::array<char32_t, 256> to_cp{};
  std::array<std::int16_t, 324> to_byte{};  // code points 0..323 cover the whole alphabet
  Alphabet() {
    to_byte.fill(-1);
    int shifted = 0;
    for (int b = 0; b < 256; ++b) {
      const char32_t cp = maps_to_itself(b) ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + shifted++);
      to_cp[static_cast<std::size_t>(b)] = cp;
      to_byte[cp] = static_cast<std::int16_t>(b);
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet a;
  return a;
}

}  // namespace

char32_t byte_to_codepoint(std::uint8_t byte) { return alphabet().to_cp[byte]; }

int codepoint_to_byte(char32_t cp) { return cp < alphabet().to_byte.size() ? alphabet().to_byte[cp] : -1; }

std::string bytes_to_byte_level(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) append_utf8(out, byte_to_codepoint(static_cast<std::uint8_t>(c)));
  return out;
}

std::string byte_level_to_bytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t len = valid_sequence_length(text, pos);
    if (len == 0) {  // not UTF-8 at all: keep the byte
      out += text[pos++];
      continue;
    }
    const int b = codepoint_to_byte(decode_sequence(text, pos, len));
    if (b >= 0) {
      out += static_cast<char>(b);
    } else {
      out.append(text.substr(pos, len));
    }
    pos += len;
  }
  return out;
}

}  // namespace autarky::text

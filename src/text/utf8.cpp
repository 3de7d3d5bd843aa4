#include "text/utf8.h"

namespace autarky::text {
namespace {

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Number of bytes a sequence with this lead byte has, or 0 for bytes that never lead.
std::size_t expected_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// The allowed range of the second byte depends on the lead byte (this is what excludes overlong
// forms, surrogates and values above U+10FFFF; see the Unicode standard, table 3-7).
bool second_byte_ok(unsigned char lead, unsigned char second) {
  switch (lead) {
    case 0xE0: return second >= 0xA0 && second <= 0xBF;
    case 0xED: return second >= 0x80 && second <= 0x9F;
    case 0xF0: return second >= 0x90 && second <= 0xBF;
    case 0xF4: return second >= 0x80 && second <= 0x8F;
    default: return is_continuation(second);
  }
}

}  // namespace

std::size_t valid_sequence_length(std::string_view s, std::size_t pos) {
  const auto lead = static_cast<unsigned char>(s[pos]);
  const std::size_t len = expected_length(lead);
  if (len <= 1) return len;
  if (pos + len > s.size()) return 0;
  if (!second_byte_ok(lead, static_cast<unsigned char>(s[pos + 1]))) return 0;
  for (std::size_t i = 2; i < len; ++i) {
    if (!is_continuation(static_cast<unsigned char>(s[pos + i]))) return 0;
  }
  return len;
}

char32_t decode_sequence(std::string_view s, std::size_t pos, std::size_t len) {
  const auto b = [&](std::size_t i) { return static_cast<char32_t>(static_cast<unsigned char>(s[pos + i])); };
  switch (len) {
    case 1: return b(0);
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_valid_utf8(std::string_view s) {
  for (std::size_t pos = 0; pos < s.size();) {
    const std::size_t len = valid_sequence_length(s, pos);
    if (len == 0) return false;
    pos += len;
  }
  return true;
}

std::string repair_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t pos = 0; pos < s.size();) {
    const std::size_t len = valid_sequence_length(s, pos);
    if (len == 0) {
      append_utf8(out, kReplacementChar);
      ++pos;
    } else {
      out.append(s.substr(pos, len));
      pos += len;
    }
  }
  return out;
}

std::size_t complete_prefix_length(std::string_view s) {
  // An incomplete sequence is at most 3 bytes long, so only the tail needs looking at.
  const std::size_t n = s.size();
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    const std::size_t pos = n - back;
    const auto c = static_cast<unsigned char>(s[pos]);
    if (is_continuation(c)) continue;
    const std::size_t len = expected_length(c);
    if (len <= back) return n;  // ASCII, invalid lead, or a sequence that already ended
    // A lead byte whose sequence runs past the end: hold it back only if what is there so far
    // could still be completed (otherwise it is garbage to be replaced now, not later).
    if (back >= 2 && !second_byte_ok(c, static_cast<unsigned char>(s[pos + 1]))) return n;
    return pos;
  }
  return n;
}

}  // namespace autarky::text

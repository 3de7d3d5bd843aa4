#include "text/jinja/lexer.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "base/error.h"
#include "text/utf8.h"

namespace autarky::jinja {
namespace {

using text::append_utf8;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  explicit Lexer(std::string_view raw) {
    // Newlines become "\n" everywhere (jinja2 does this to the whole source), and one trailing
    // newline goes away (keep_trailing_newline=False).
    src_.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\r') {
        src_ += '\n';
        if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
      } else {
        src_ += raw[i];
      }
    }
    if (!src_.empty() && src_.back() == '\n') src_.pop_back();
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    std::size_t pos = 0;
    while (pos < src_.size()) {
      std::size_t start = find_tag_start(pos);
      if (start == std::string::npos) {
        emit_text(src_.substr(pos), pos);
        break;
      }
      const char type = src_[start + 1];  // '{', '%' or '#'
      std::size_t after = start + 2;
      char sign = 0;
      if (after < src_.size() && (src_[after] == '-' || src_[after] == '+')) sign = src_[after++];
      std::string text = src_.substr(pos, start - pos);
      strip_before_tag(text, pos, sign, type != '{');
      emit_text(std::move(text), pos);
      if (type == '#') {
        pos = skip_comment(start, after);
      } else if (type == '%' && is_raw_begin(after)) {
        pos = lex_raw(start, after);
      } else {
        pos = lex_tag(start, after, type == '%');
      }
    }
    Token end;
    end.kind = TokenKind::End;
    set_position(end, src_.size());
    tokens_.push_back(end);
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void error_at(std::size_t offset, const std::string& what) const {
    auto [line, col] = line_col(offset);
    fail("template syntax error at line {}, column {}: {}", line, col, what);
  }

  std::pair<int, int> line_col(std::size_t offset) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    std::size_t line_index = static_cast<std::size_t>(it - line_starts_.begin()) - 1;
    return {static_cast<int>(line_index + 1), static_cast<int>(offset - line_starts_[line_index] + 1)};
  }

  void set_position(Token& t, std::size_t offset) const {
    auto [line, col] = line_col(offset);
    t.line = line;
    t.column = col;
  }

  std::size_t find_tag_start(std::size_t from) const {
    for (std::size_t i = from; i + 1 < src_.size(); ++i) {
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  // `text` runs from `text_start` to a tag; trims it as jinja2 does before that tag.
  void strip_before_tag(std::string& text, std::size_t text_start, char sign, bool block_or_comment) const {
    if (sign == '-') {
      std::size_t keep = text.size();
      while (keep > 0 && is_space(text[keep - 1])) --keep;
      text.resize(keep);
      return;
    }
    if (sign == '+' || !block_or_comment) return;
    // lstrip_blocks: only whitespace between the start of the line and the tag.
    std::size_t newline = text.rfind('\n');
    std::size_t line_begin = newline == std::string::npos ? 0 : newline + 1;
    bool line_starting = text_start == 0 || src_[text_start - 1] == '\n';
    if (newline == std::string::npos && !line_starting) return;
    for (std::size_t i = line_begin; i < text.size(); ++i)
      if (!is_space(text[i])) return;
    text.resize(line_begin);
  }

  // Position after a tag's end delimiter, applying `-` / `+` / trim_blocks to what follows.
  std::size_t after_tag_end(std::size_t end_pos, char sign, bool block_or_comment) const {
    if (sign == '-') {
      while (end_pos < src_.size() && is_space(src_[end_pos])) ++end_pos;
    } else if (sign != '+' && block_or_comment && end_pos < src_.size() && src_[end_pos] == '\n') {
      ++end_pos;
    }
    return end_pos;
  }

  void emit_text(std::string text, std::size_t offset) {
    if (text.empty()) return;
    Token t;
    t.kind = TokenKind::Text;
    t.text = std::move(text);
    set_position(t, offset);
    tokens_.push_back(std::move(t));
  }

  std::size_t skip_comment(std::size_t start, std::size_t after) const {
    std::size_t close = src_.find("#}", after);
    if (close == std::string::npos) error_at(start, "unterminated comment: missing '#}'");
    char sign = 0;
    if (close > after && (src_[close - 1] == '-' || src_[close - 1] == '+')) sign = src_[close - 1];
    return after_tag_end(close + 2, sign, true);
  }

  std::size_t skip_spaces(std::size_t p) const {
    while (p < src_.size() && is_space(src_[p])) ++p;
    return p;
  }

  // Is this `{% raw %}`? Returns true and leaves parsing to lex_raw.
  bool is_raw_begin(std::size_t after) const {
    std::size_t p = skip_spaces(after);
    if (src_.compare(p, 3, "raw") != 0) return false;
    p = skip_spaces(p + 3);
    return src_.compare(p, 2, "%}") == 0 || src_.compare(p, 3, "-%}") == 0 || src_.compare(p, 3, "+%}") == 0;
  }

  std::size_t lex_raw(std::size_t start, std::size_t after) {
    std::size_t p = skip_spaces(skip_spaces(after) + 3);
    char sign = 0;
    if (src_[p] != '%') sign = src_[p++];
    std::size_t body = after_tag_end(p + 2, sign, true);
    // Find `{% endraw %}` (with optional whitespace control) after the body.
    for (std::size_t i = src_.find("{%", body); i != std::string::npos; i = src_.find("{%", i + 2)) {
      std::size_t q = i + 2;
      char open_sign = 0;
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) open_sign = src_[q++];
      q = skip_spaces(q);
      if (src_.compare(q, 6, "endraw") != 0) continue;
      q = skip_spaces(q + 6);
      char close_sign = 0;
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) close_sign = src_[q++];
      if (src_.compare(q, 2, "%}") != 0) continue;
      std::string text = src_.substr(body, i - body);
      strip_before_tag(text, body, open_sign, true);
      emit_text(std::move(text), body);
      return after_tag_end(q + 2, close_sign, true);
    }
    error_at(start, "unterminated raw block: missing '{% endraw %}'");
  }

  std::size_t lex_tag(std::size_t start, std::size_t after, bool block) {
    Token begin;
    begin.kind = block ? TokenKind::BlockBegin : TokenKind::VarBegin;
    set_position(begin, start);
    tokens_.push_back(begin);
    std::vector<char> brackets;
    std::size_t p = after;
    for (;;) {
      p = skip_spaces(p);
      if (p >= src_.size()) error_at(start, block ? "unterminated tag: missing '%}'" : "unterminated tag: missing '}}'");
      if (brackets.empty()) {
        std::size_t end_len = 0;
        char sign = 0;
        if (block) {
          if (src_.compare(p, 2, "%}") == 0) end_len = 2;
          else if ((src_[p] == '-' || src_[p] == '+') && src_.compare(p + 1, 2, "%}") == 0) sign = src_[p], end_len = 3;
        } else {
          if (src_.compare(p, 2, "}}") == 0) end_len = 2;
          else if (src_[p] == '-' && src_.compare(p + 1, 2, "}}") == 0) sign = '-', end_len = 3;
        }
        if (end_len) {
          Token end;
          end.kind = block ? TokenKind::BlockEnd : TokenKind::VarEnd;
          set_position(end, p);
          tokens_.push_back(end);
          return after_tag_end(p + end_len, sign, block);
        }
      }
      p = lex_expression_token(p, brackets);
    }
  }

  std::size_t lex_expression_token(std::size_t p, std::vector<char>& brackets) {
    Token t;
    set_position(t, p);
    const char c = src_[p];
    if (c == '\'' || c == '"') return lex_string(p, std::move(t));
    if (is_digit(c)) return lex_number(p, std::move(t));
    if (is_name_start(c)) {
      std::size_t e = p;
      while (e < src_.size() && is_name_char(src_[e])) ++e;
      t.kind = TokenKind::Name;
      t.text = src_.substr(p, e - p);
      tokens_.push_back(std::move(t));
      return e;
    }
    static constexpr std::string_view kTwoChar[] = {"//", "**", "==", "!=", ">=", "<="};
    for (auto op : kTwoChar) {
      if (src_.compare(p, 2, op) == 0) {
        t.kind = TokenKind::Op;
        t.text = std::string(op);
        tokens_.push_back(std::move(t));
        return p + 2;
      }
    }
    if (std::string_view("+-/*%~[](){}><=.:|,;").find(c) == std::string_view::npos)
      error_at(p, fmt::format("unexpected character '{}'", c));
    if (c == '(' || c == '[' || c == '{') {
      brackets.push_back(c);
    } else if (c == ')' || c == ']' || c == '}') {
      char open = c == ')' ? '(' : c == ']' ? '[' : '{';
      if (brackets.empty() || brackets.back() != open) error_at(p, fmt::format("unexpected '{}'", c));
      brackets.pop_back();
    }
    t.kind = TokenKind::Op;
    t.text = std::string(1, c);
    tokens_.push_back(std::move(t));
    return p + 1;
  }

  std::size_t lex_string(std::size_t p, Token t) {
    const char quote = src_[p];
    std::string out;
    std::size_t i = p + 1;
    for (;;) {
      if (i >= src_.size()) error_at(p, "unterminated string literal");
      char c = src_[i];
      if (c == quote) break;
      if (c != '\\') {
        out += c;
        ++i;
        continue;
      }
      if (i + 1 >= src_.size()) error_at(p, "unterminated string literal");
      i = decode_escape(i, out);
    }
    t.kind = TokenKind::String;
    t.text = std::move(out);
    tokens_.push_back(std::move(t));
    return i + 1;
  }

  // Python's unicode-escape rules; `i` is at the backslash. Returns the position after the escape.
  std::size_t decode_escape(std::size_t i, std::string& out) const {
    const char e = src_[i + 1];
    auto read_hex = [&](std::size_t from, int count) -> long {
      long v = 0;
      for (int k = 0; k < count; ++k) {
        int h = from + static_cast<std::size_t>(k) < src_.size() ? hex_value(src_[from + static_cast<std::size_t>(k)]) : -1;
        if (h < 0) error_at(i, "truncated \\x, \\u or \\U escape in string literal");
        v = v * 16 + h;
      }
      return v;
    };
    switch (e) {
      case '\n': return i + 2;  // line continuation
      case '\\': out += '\\'; return i + 2;
      case '\'': out += '\''; return i + 2;
      case '"': out += '"'; return i + 2;
      case 'a': out += '\a'; return i + 2;
      case 'b': out += '\b'; return i + 2;
      case 'f': out += '\f'; return i + 2;
      case 'n': out += '\n'; return i + 2;
      case 'r': out += '\r'; return i + 2;
      case 't': out += '\t'; return i + 2;
      case 'v': out += '\v'; return i + 2;
      case 'x': append_utf8(out, static_cast<char32_t>(read_hex(i + 2, 2))); return i + 4;
      case 'u': append_utf8(out, static_cast<char32_t>(read_hex(i + 2, 4))); return i + 6;
      case 'U': append_utf8(out, static_cast<char32_t>(read_hex(i + 2, 8))); return i + 10;
      default: break;
    }
    if (e >= '0' && e <= '7') {
      std::uint32_t v = 0;
      std::size_t k = i + 1;
      for (int n = 0; n < 3 && k < src_.size() && src_[k] >= '0' && src_[k] <= '7'; ++n, ++k) v = v * 8 + static_cast<std::uint32_t>(src_[k] - '0');
      append_utf8(out, v);
      return k;
    }
    out += '\\';  // unknown escapes are kept as written
    return i + 1;
  }

  std::size_t lex_number(std::size_t p, Token t) {
    auto digits = [&](std::size_t q, auto is_ok) {
      while (q < src_.size() && (is_ok(src_[q]) || (src_[q] == '_' && q + 1 < src_.size() && is_ok(src_[q + 1])))) ++q;
      return q;
    };
    auto dec = [](char ch) { return is_digit(ch); };
    if (src_[p] == '0' && p + 1 < src_.size() && std::string_view("xXoObB").find(src_[p + 1]) != std::string_view::npos) {
      const char base_char = static_cast<char>(src_[p + 1] | 0x20);
      const int base = base_char == 'x' ? 16 : base_char == 'o' ? 8 : 2;
      auto ok = [base](char ch) { int h = hex_value(ch); return h >= 0 && h < base; };
      std::size_t e = digits(p + 2, ok);
      if (e == p + 2) error_at(p, "malformed number literal");
      std::string body;
      for (std::size_t k = p + 2; k < e; ++k)
        if (src_[k] != '_') body += src_[k];
      errno = 0;
      unsigned long long v = std::strtoull(body.c_str(), nullptr, base);
      if (errno == ERANGE || v > static_cast<unsigned long long>(INT64_MAX)) error_at(p, "integer literal too large");
      t.kind = TokenKind::Int;
      t.int_value = static_cast<std::int64_t>(v);
      tokens_.push_back(std::move(t));
      return e;
    }
    std::size_t e = digits(p, dec);
    bool is_float = false;
    // `foo.0.1` is two attribute lookups, not a float: no fraction right after a '.'.
    const bool after_dot = p > 0 && src_[p - 1] == '.';
    if (!after_dot && e + 1 < src_.size() && src_[e] == '.' && is_digit(src_[e + 1])) {
      e = digits(e + 1, dec);
      is_float = true;
    }
    if (!after_dot && e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      std::size_t q = e + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && is_digit(src_[q])) {
        e = digits(q, dec);
        is_float = true;
      }
    }
    std::string body;
    for (std::size_t k = p; k < e; ++k)
      if (src_[k] != '_') body += src_[k];
    if (is_float) {
      t.kind = TokenKind::Float;
      t.float_value = std::strtod(body.c_str(), nullptr);
    } else {
      errno = 0;
      unsigned long long v = std::strtoull(body.c_str(), nullptr, 10);
      if (errno == ERANGE || v > static_cast<unsigned long long>(INT64_MAX)) error_at(p, "integer literal too large");
      t.kind = TokenKind::Int;
      t.int_value = static_cast<std::int64_t>(v);
    }
    tokens_.push_back(std::move(t));
    return e;
  }

  std::string src_;
  std::vector<std::size_t> line_starts_;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(source).run(); }

}  // namespace autarky::jinja

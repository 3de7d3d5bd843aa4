#pragma once
// Splits a template into text and tag tokens, applying jinja2's whitespace control the way
// Hugging Face configures it (trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False):
//   - `{%-`, `{{-`, `{#-` strip all whitespace before the tag; `-%}`, `-}}`, `-#}` all after it;
//   - a block or comment tag alone on its line loses the indentation before it (unless `{%+`);
//   - the first newline after a block or comment tag is dropped (unless `+%}`);
//   - newlines are normalised to "\n" and one trailing newline of the template is dropped.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace autarky::jinja {

enum class TokenKind : std::uint8_t {
  Text,        // literal output
  VarBegin,    // {{
  VarEnd,      // }}
  BlockBegin,  // {%
  BlockEnd,    // %}
  Name,
  String,
  Int,
  Float,
  Op,  // operators and punctuation, spelled in `text`
  End,
};

struct Token {
  TokenKind kind = TokenKind::End;
  std::string text;  // Text, Name, Op, and the decoded contents of String
  std::int64_t int_value = 0;
  double float_value = 0.0;
  int line = 1;
  int column = 1;
};

// Throws Error naming the line and column of a malformed tag, string or number.
std::vector<Token> tokenize(std::string_view source);

}  // namespace autarky::jinja

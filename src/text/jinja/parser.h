#pragma once
// Recursive-descent parser from tokens to the syntax tree, following jinja2's grammar and
// operator precedence (lowest first): `x if c else y`, or, and, not, comparisons / in, + -, ~,
// * / // %, **, unary - +, then postfix (.attr, [item], [a:b:c], call) with filters and tests.

#include <string_view>

#include "text/jinja/ast.h"

namespace autarky::jinja {

// Throws Error naming line and column on a syntax error; nesting deeper than 200 levels is one.
Template parse_template(std::string_view source);

}  // namespace autarky::jinja

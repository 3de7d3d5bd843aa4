#pragma once
// The syntax tree the parser builds and the interpreter walks. One node type per family
// (expressions, statements) with a kind tag keeps the tree small and easy to print in errors.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "text/jinja/value.h"

namespace autarky::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind : std::uint8_t {
  Literal,    // value
  Name,       // name
  List,       // items
  Tuple,      // items
  Dict,       // items as key, value, key, value, ...
  GetAttr,    // items[0].name
  GetItem,    // items[0][items[1]]
  Slice,      // items[0][items[1]:items[2]:items[3]], null for omitted parts
  Call,       // items[0](items[1..], kwargs)
  Filter,     // items[0] | name(items[1..], kwargs)
  Test,       // items[0] is [not] name(items[1..], kwargs)
  Unary,      // op items[0]: "-", "+", "not"
  Binary,     // items[0] op items[1]: + - * / // % ** ~ and or
  Compare,    // items[0] ops[0] items[1] ops[1] items[2] ... (chained like Python)
  Condition,  // items[1] if items[0] else items[2] (items[2] null: undefined)
};

struct Expr {
  ExprKind kind = ExprKind::Literal;
  int line = 0;
  Value value;                       // Literal (only scalars and strings)
  std::string name;                  // Name, GetAttr, Filter, Test; the operator for Unary/Binary
  std::vector<ExprPtr> items;        // operands; may hold null for omitted slice parts
  std::vector<std::string> ops;      // Compare: "==", "!=", "<", "<=", ">", ">=", "in", "notin"
  std::vector<std::pair<std::string, ExprPtr>> kwargs;  // Call, Filter, Test
  bool negated = false;              // Test: `is not`
  int height = 1;                    // longest path to a leaf; bounded by the parser
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class StmtKind : std::uint8_t {
  Text,      // text
  Output,    // {{ expr }}
  If,        // conditions[i] -> bodies[i]; bodies.back() is the else body when it has one more
  For,       // for targets in expr [if filter] body [else else_body]
  Set,       // set targets = expr (a target may be `ns.attr`: attr_owner + attr)
  SetBlock,  // set target [| filters] body endset
  Macro,     // macro name(params) body
  CallBlock, // call[(params)] expr body endcall
  FilterBlock,  // filter chain: `filter` holds the filters applied to items[0] placeholder
  Break,
  Continue,
  With,      // with targets = values body
  Do,        // do expr
};

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null when required
};

struct Stmt {
  StmtKind kind = StmtKind::Text;
  int line = 0;
  std::string text;                 // Text; Macro name; Set attribute owner
  ExprPtr expr;                     // Output, For iterable, Set value, CallBlock call, Do
  ExprPtr filter;                   // For `if` filter; SetBlock/FilterBlock filter chain
  std::vector<std::string> targets; // For, Set, SetBlock, With names
  std::string attr;                 // Set/SetBlock: `ns.attr` target when non-empty (ns in targets[0])
  std::vector<ExprPtr> conditions;  // If conditions; With values
  std::vector<Body> bodies;         // If branches; For/Macro/... body is bodies[0], else is bodies[1]
  std::vector<MacroParam> params;   // Macro / CallBlock caller parameters
};

struct Template {
  Body body;
};

}  // namespace autarky::jinja

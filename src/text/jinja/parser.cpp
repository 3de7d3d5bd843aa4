#include "text/jinja/parser.h"

#include <algorithm>

#include "base/error.h"
#include "text/jinja/lexer.h"

namespace autarky::jinja {
namespace {

constexpr int kMaxNesting = 200;
// Chains built in loops (a+b+c..., x.a.b..., x|f|g...) are deep trees without deep parser
// recursion; their height is bounded separately so that evaluating or freeing them stays shallow.
constexpr int kMaxHeight = 400;

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Template run() {
    Template t;
    std::string ended_by;
    t.body = parse_body({}, ended_by);
    return t;
  }

 private:
  // ---- token helpers ----
  const Token& cur() const { return tokens_[pos_]; }
  const Token& peek(std::size_t ahead = 1) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  void advance() {
    if (pos_ + 1 < tokens_.size()) ++pos_;
  }
  bool is_op(std::string_view op) const { return cur().kind == TokenKind::Op && cur().text == op; }
  bool is_name(std::string_view n) const { return cur().kind == TokenKind::Name && cur().text == n; }
  bool accept_op(std::string_view op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool accept_name(std::string_view n) {
    if (!is_name(n)) return false;
    advance();
    return true;
  }

  static std::string describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::Text: return "text";
      case TokenKind::VarBegin: return "'{{'";
      case TokenKind::VarEnd: return "'}}'";
      case TokenKind::BlockBegin: return "'{%'";
      case TokenKind::BlockEnd: return "'%}'";
      case TokenKind::Name: return "'" + t.text + "'";
      case TokenKind::String: return "string literal";
      case TokenKind::Int:
      case TokenKind::Float: return "number";
      case TokenKind::Op: return "'" + t.text + "'";
      case TokenKind::End: return "end of template";
    }
    return "token";
  }

  [[noreturn]] void error(const std::string& what) const { error_at(cur(), what); }
  [[noreturn]] static void error_at(const Token& t, const std::string& what) {
    fail("template syntax error at line {}, column {}: {}", t.line, t.column, what);
  }
  void expect_op(std::string_view op) {
    if (!accept_op(op)) error(fmt::format("expected '{}', got {}", op, describe(cur())));
  }
  std::string expect_name() {
    if (cur().kind != TokenKind::Name) error(fmt::format("expected a name, got {}", describe(cur())));
    std::string n = cur().text;
    advance();
    return n;
  }
  void expect_block_end() {
    if (cur().kind != TokenKind::BlockEnd) error(fmt::format("expected end of statement '%}}', got {}", describe(cur())));
    advance();
  }

  struct DepthGuard {
    explicit DepthGuard(Parser& p) : parser(p) {
      if (++parser.depth_ > kMaxNesting) parser.error("template nested too deeply");
    }
    ~DepthGuard() { --parser.depth_; }
    Parser& parser;
  };

  ExprPtr finish(ExprPtr e) {
    int h = 0;
    for (const auto& item : e->items)
      if (item) h = std::max(h, item->height);
    for (const auto& kv : e->kwargs) h = std::max(h, kv.second->height);
    e->height = h + 1;
    if (e->height > kMaxHeight) error("expression nested too deeply");
    return e;
  }

  ExprPtr make(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  // ---- statements ----
  // Parses statements until a `{% name %}` with name in `ends` (left for the caller, which reads
  // the rest of that tag) or the end of the template (an error when `ends` is not empty).
  Body parse_body(std::initializer_list<std::string_view> ends, std::string& ended_by) {
    DepthGuard guard(*this);
    Body body;
    for (;;) {
      const Token& t = cur();
      if (t.kind == TokenKind::End) {
        if (ends.size() == 0) return body;
        std::string expected;
        for (auto e : ends) expected += (expected.empty() ? "'" : " or '") + std::string(e) + "'";
        error(fmt::format("unexpected end of template, expected {}", expected));
      }
      if (t.kind == TokenKind::Text) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Text;
        s->line = t.line;
        s->text = t.text;
        body.push_back(std::move(s));
        advance();
      } else if (t.kind == TokenKind::VarBegin) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Output;
        s->line = t.line;
        advance();
        s->expr = parse_tuple_expression(true);
        if (cur().kind != TokenKind::VarEnd) error(fmt::format("expected end of print statement '}}}}', got {}", describe(cur())));
        advance();
        body.push_back(std::move(s));
      } else if (t.kind == TokenKind::BlockBegin) {
        const Token& keyword = peek();
        if (keyword.kind == TokenKind::Name &&
            std::find(ends.begin(), ends.end(), std::string_view(keyword.text)) != ends.end()) {
          ended_by = keyword.text;
          advance();
          advance();
          return body;
        }
        advance();
        if (StmtPtr s = parse_statement()) body.push_back(std::move(s));
      } else {
        error(fmt::format("unexpected {}", describe(t)));
      }
    }
  }

  StmtPtr new_stmt(StmtKind kind, int line) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->line = line;
    return s;
  }

  StmtPtr parse_statement() {
    const int line = cur().line;
    if (cur().kind != TokenKind::Name) error(fmt::format("expected a statement name, got {}", describe(cur())));
    const Token keyword_token = cur();
    const std::string keyword = cur().text;
    advance();
    std::string ended_by;
    if (keyword == "if") return parse_if(line);
    if (keyword == "for") return parse_for(line);
    if (keyword == "set") return parse_set(line);
    if (keyword == "macro") return parse_macro(line);
    if (keyword == "call") return parse_call_block(line);
    if (keyword == "filter") {
      auto s = new_stmt(StmtKind::FilterBlock, line);
      // `{% filter upper | trim %}`: the first filter comes without a pipe.
      auto first = make(ExprKind::Filter, line);
      first->name = expect_name();
      first->items.push_back(make(ExprKind::Name, line));
      if (is_op("(")) parse_arguments(*first);
      s->filter = parse_filter_chain(std::move(first));
      expect_block_end();
      s->bodies.push_back(parse_body({"endfilter"}, ended_by));
      expect_block_end();
      return s;
    }
    if (keyword == "break" || keyword == "continue") {
      if (loop_depth_ == 0) error(fmt::format("'{}' outside of a loop", keyword));
      expect_block_end();
      return new_stmt(keyword == "break" ? StmtKind::Break : StmtKind::Continue, line);
    }
    if (keyword == "with") {
      auto s = new_stmt(StmtKind::With, line);
      while (cur().kind != TokenKind::BlockEnd) {
        if (!s->targets.empty()) expect_op(",");
        s->targets.push_back(expect_name());
        expect_op("=");
        s->conditions.push_back(parse_expression(true));
      }
      expect_block_end();
      s->bodies.push_back(parse_body({"endwith"}, ended_by));
      expect_block_end();
      return s;
    }
    if (keyword == "do") {
      auto s = new_stmt(StmtKind::Do, line);
      s->expr = parse_tuple_expression(true);
      expect_block_end();
      return s;
    }
    if (keyword == "generation") {
      // Hugging Face's AssistantTracker tag: renders its body unchanged.
      expect_block_end();
      auto s = new_stmt(StmtKind::With, line);
      s->bodies.push_back(parse_body({"endgeneration"}, ended_by));
      expect_block_end();
      return s;
    }
    error_at(keyword_token, fmt::format("unknown or unexpected tag '{}'", keyword));
  }

  StmtPtr parse_if(int line) {
    auto s = new_stmt(StmtKind::If, line);
    s->conditions.push_back(parse_tuple_expression(true));
    expect_block_end();
    for (;;) {
      std::string ended_by;
      s->bodies.push_back(parse_body({"elif", "else", "endif"}, ended_by));
      if (ended_by == "elif") {
        s->conditions.push_back(parse_tuple_expression(true));
        expect_block_end();
        continue;
      }
      expect_block_end();
      if (ended_by == "else") {
        s->bodies.push_back(parse_body({"endif"}, ended_by));
        expect_block_end();
      }
      return s;
    }
  }

  std::vector<std::string> parse_target_names() {
    std::vector<std::string> names;
    bool parens = accept_op("(");
    do {
      if ((is_op(")") && parens) || is_name("in")) break;
      names.push_back(expect_name());
    } while (accept_op(","));
    if (parens) expect_op(")");
    if (names.empty()) error("expected a loop variable");
    return names;
  }

  StmtPtr parse_for(int line) {
    auto s = new_stmt(StmtKind::For, line);
    s->targets = parse_target_names();
    if (!accept_name("in")) error(fmt::format("expected 'in', got {}", describe(cur())));
    s->expr = parse_tuple_expression(false);
    if (accept_name("if")) s->filter = parse_expression(true);
    if (accept_name("recursive")) error("recursive loops are not supported");
    expect_block_end();
    std::string ended_by;
    ++loop_depth_;
    s->bodies.push_back(parse_body({"else", "endfor"}, ended_by));
    --loop_depth_;
    expect_block_end();
    if (ended_by == "else") {
      // The else body runs when nothing was iterated; break/continue there belong to outer loops.
      int saved = loop_depth_;
      s->bodies.push_back(parse_body({"endfor"}, ended_by));
      loop_depth_ = saved;
      expect_block_end();
    }
    return s;
  }

  StmtPtr parse_set(int line) {
    std::vector<std::string> names;
    std::string attr;
    names.push_back(expect_name());
    if (accept_op(".")) {
      attr = expect_name();
    } else {
      while (accept_op(",")) names.push_back(expect_name());
    }
    if (accept_op("=")) {
      auto s = new_stmt(StmtKind::Set, line);
      s->targets = std::move(names);
      s->attr = std::move(attr);
      s->expr = parse_tuple_expression(true);
      expect_block_end();
      return s;
    }
    if (names.size() != 1) error("a block assignment takes exactly one target");
    auto s = new_stmt(StmtKind::SetBlock, line);
    s->targets = std::move(names);
    s->attr = std::move(attr);
    if (is_op("|")) s->filter = parse_filter_chain(make(ExprKind::Name, line));
    expect_block_end();
    std::string ended_by;
    s->bodies.push_back(parse_body({"endset"}, ended_by));
    expect_block_end();
    return s;
  }

  void parse_params(std::vector<MacroParam>& params) {
    expect_op("(");
    while (!is_op(")")) {
      if (!params.empty()) expect_op(",");
      if (is_op(")")) break;
      MacroParam p;
      p.name = expect_name();
      if (accept_op("=")) p.default_value = parse_expression(true);
      else if (!params.empty() && params.back().default_value) error("non-default parameter follows default parameter");
      params.push_back(std::move(p));
    }
    expect_op(")");
  }

  StmtPtr parse_macro(int line) {
    auto s = new_stmt(StmtKind::Macro, line);
    s->text = expect_name();
    parse_params(s->params);
    expect_block_end();
    std::string ended_by;
    int saved = loop_depth_;
    loop_depth_ = 0;
    s->bodies.push_back(parse_body({"endmacro"}, ended_by));
    loop_depth_ = saved;
    if (cur().kind == TokenKind::Name) advance();  // optional macro name after endmacro
    expect_block_end();
    return s;
  }

  StmtPtr parse_call_block(int line) {
    auto s = new_stmt(StmtKind::CallBlock, line);
    if (is_op("(")) parse_params(s->params);
    s->expr = parse_expression(true);
    if (s->expr->kind != ExprKind::Call) error("expected a macro call after 'call'");
    expect_block_end();
    std::string ended_by;
    int saved = loop_depth_;
    loop_depth_ = 0;
    s->bodies.push_back(parse_body({"endcall"}, ended_by));
    loop_depth_ = saved;
    expect_block_end();
    return s;
  }

  // ---- expressions ----
  ExprPtr parse_tuple_expression(bool with_condition) {
    const int line = cur().line;
    ExprPtr first = with_condition ? parse_expression(true) : parse_or();
    if (!is_op(",")) return first;
    auto tuple = make(ExprKind::Tuple, line);
    tuple->items.push_back(std::move(first));
    while (accept_op(",")) {
      if (cur().kind == TokenKind::BlockEnd || cur().kind == TokenKind::VarEnd || is_op(")")) break;
      tuple->items.push_back(with_condition ? parse_expression(true) : parse_or());
    }
    return tuple;
  }

  ExprPtr parse_expression(bool with_condition) {
    DepthGuard guard(*this);
    ExprPtr e = parse_or();
    if (!with_condition) return e;
    while (is_name("if")) {
      const int line = cur().line;
      advance();
      auto cond = make(ExprKind::Condition, line);
      cond->items.push_back(parse_or());
      cond->items.push_back(std::move(e));
      cond->items.push_back(accept_name("else") ? parse_expression(true) : nullptr);
      e = finish(std::move(cond));
    }
    return e;
  }

  ExprPtr binary(std::string op, ExprPtr l, ExprPtr r, int line) {
    auto b = make(ExprKind::Binary, line);
    b->name = std::move(op);
    b->items.push_back(std::move(l));
    b->items.push_back(std::move(r));
    return finish(std::move(b));
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (is_name("or")) {
      const int line = cur().line;
      advance();
      left = binary("or", std::move(left), parse_and(), line);
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (is_name("and")) {
      const int line = cur().line;
      advance();
      left = binary("and", std::move(left), parse_not(), line);
    }
    return left;
  }

  ExprPtr parse_not() {
    DepthGuard guard(*this);
    if (is_name("not")) {
      const int line = cur().line;
      advance();
      auto u = make(ExprKind::Unary, line);
      u->name = "not";
      u->items.push_back(parse_not());
      return u;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const int line = cur().line;
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    for (;;) {
      std::string op;
      if (cur().kind == TokenKind::Op &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" || cur().text == ">" ||
           cur().text == ">=")) {
        op = cur().text;
        advance();
      } else if (is_name("in")) {
        op = "in";
        advance();
      } else if (is_name("not") && peek().kind == TokenKind::Name && peek().text == "in") {
        op = "notin";
        advance();
        advance();
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(ExprKind::Compare, line);
        cmp->items.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->items.push_back(parse_math1());
    }
    if (cmp) cmp = finish(std::move(cmp));
    return cmp ? std::move(cmp) : std::move(first);
  }

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      std::string op = cur().text;
      const int line = cur().line;
      advance();
      left = binary(op, std::move(left), parse_concat(), line);
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr left = parse_math2();
    while (is_op("~")) {
      const int line = cur().line;
      advance();
      left = binary("~", std::move(left), parse_math2(), line);
    }
    return left;
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = cur().text;
      const int line = cur().line;
      advance();
      left = binary(op, std::move(left), parse_pow(), line);
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (is_op("**")) {
      const int line = cur().line;
      advance();
      left = binary("**", std::move(left), parse_unary(true), line);
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    const int line = cur().line;
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      auto u = make(ExprKind::Unary, line);
      u->name = cur().text;
      advance();
      u->items.push_back(parse_unary(false));
      node = std::move(u);
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    DepthGuard guard(*this);
    const Token& t = cur();
    const int line = t.line;
    switch (t.kind) {
      case TokenKind::Name: {
        auto e = make(ExprKind::Literal, line);
        if (t.text == "true" || t.text == "True") e->value = Value::from_bool(true);
        else if (t.text == "false" || t.text == "False") e->value = Value::from_bool(false);
        else if (t.text == "none" || t.text == "None") e->value = Value::none();
        else {
          e->kind = ExprKind::Name;
          e->name = t.text;
        }
        advance();
        return e;
      }
      case TokenKind::String: {
        std::string s;
        while (cur().kind == TokenKind::String) {  // adjacent literals concatenate
          s += cur().text;
          advance();
        }
        auto e = make(ExprKind::Literal, line);
        e->value = Value::from_string(std::move(s));
        return e;
      }
      case TokenKind::Int: {
        auto e = make(ExprKind::Literal, line);
        e->value = Value::from_int(t.int_value);
        advance();
        return e;
      }
      case TokenKind::Float: {
        auto e = make(ExprKind::Literal, line);
        e->value = Value::from_float(t.float_value);
        advance();
        return e;
      }
      case TokenKind::Op:
        if (t.text == "(") {
          advance();
          if (accept_op(")")) return make(ExprKind::Tuple, line);
          ExprPtr inner = parse_expression(true);
          if (is_op(",")) {
            auto tuple = make(ExprKind::Tuple, line);
            tuple->items.push_back(std::move(inner));
            while (accept_op(",")) {
              if (is_op(")")) break;
              tuple->items.push_back(parse_expression(true));
            }
            inner = std::move(tuple);
          }
          expect_op(")");
          return inner;
        }
        if (t.text == "[") {
          advance();
          auto list = make(ExprKind::List, line);
          while (!is_op("]")) {
            if (!list->items.empty()) expect_op(",");
            if (is_op("]")) break;
            list->items.push_back(parse_expression(true));
          }
          expect_op("]");
          return list;
        }
        if (t.text == "{") {
          advance();
          auto dict = make(ExprKind::Dict, line);
          while (!is_op("}")) {
            if (!dict->items.empty()) expect_op(",");
            if (is_op("}")) break;
            dict->items.push_back(parse_expression(true));
            expect_op(":");
            dict->items.push_back(parse_expression(true));
          }
          expect_op("}");
          return dict;
        }
        break;
      default: break;
    }
    error(fmt::format("unexpected {}", describe(t)));
  }

  ExprPtr parse_postfix(ExprPtr node) {
    for (;;) {
      const int line = cur().line;
      if (is_op(".")) {
        advance();
        if (cur().kind == TokenKind::Int) {
          auto item = make(ExprKind::GetItem, line);
          auto index = make(ExprKind::Literal, line);
          index->value = Value::from_int(cur().int_value);
          advance();
          item->items.push_back(std::move(node));
          item->items.push_back(std::move(index));
          node = finish(std::move(item));
        } else {
          auto attr = make(ExprKind::GetAttr, line);
          attr->name = expect_name();
          attr->items.push_back(std::move(node));
          node = finish(std::move(attr));
        }
      } else if (is_op("[")) {
        advance();
        node = parse_subscript(std::move(node), line);
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr target, int line) {
    ExprPtr parts[3];
    bool is_slice = false;
    for (int i = 0; i < 3; ++i) {
      if (!is_op(":") && !is_op("]")) parts[i] = parse_expression(true);
      if (i < 2 && accept_op(":")) {
        is_slice = true;
        continue;
      }
      break;
    }
    expect_op("]");
    if (!is_slice) {
      if (!parts[0]) error("empty subscript");
      auto item = make(ExprKind::GetItem, line);
      item->items.push_back(std::move(target));
      item->items.push_back(std::move(parts[0]));
      return finish(std::move(item));
    }
    auto slice = make(ExprKind::Slice, line);
    slice->items.push_back(std::move(target));
    for (auto& p : parts) slice->items.push_back(std::move(p));
    return finish(std::move(slice));
  }

  // Arguments of a call, filter or test: appended to node->items after its first item.
  void parse_arguments(Expr& node) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (is_op("*") || is_op("**")) error("*args and **kwargs are not supported");
      if (cur().kind == TokenKind::Name && peek().kind == TokenKind::Op && peek().text == "=") {
        std::string key = cur().text;
        advance();
        advance();
        node.kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (!node.kwargs.empty()) error("positional argument follows keyword argument");
        node.items.push_back(parse_expression(true));
      }
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto call = make(ExprKind::Call, cur().line);
    call->items.push_back(std::move(callee));
    parse_arguments(*call);
    return finish(std::move(call));
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    for (;;) {
      if (is_op("|")) {
        node = parse_filter_chain(std::move(node));
      } else if (is_name("is")) {
        node = parse_test(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_filter_chain(ExprPtr node) {
    while (accept_op("|")) {
      auto f = make(ExprKind::Filter, cur().line);
      f->name = expect_name();
      while (accept_op(".")) f->name += "." + expect_name();
      f->items.push_back(std::move(node));
      if (is_op("(")) parse_arguments(*f);
      node = finish(std::move(f));
    }
    return node;
  }

  ExprPtr parse_test(ExprPtr node) {
    auto t = make(ExprKind::Test, cur().line);
    advance();  // 'is'
    if (accept_name("not")) t->negated = true;
    t->name = expect_name();
    while (accept_op(".")) t->name += "." + expect_name();
    t->items.push_back(std::move(node));
    if (is_op("(")) {
      parse_arguments(*t);
    } else {
      const Token& c = cur();
      bool starts_argument = c.kind == TokenKind::String || c.kind == TokenKind::Int || c.kind == TokenKind::Float ||
                             (c.kind == TokenKind::Op && (c.text == "[" || c.text == "{")) ||
                             (c.kind == TokenKind::Name && c.text != "else" && c.text != "or" && c.text != "and");
      if (starts_argument) t->items.push_back(parse_postfix(parse_primary()));
    }
    return finish(std::move(t));
  }

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Template parse_template(std::string_view source) { return Parser(tokenize(source)).run(); }

}  // namespace autarky::jinja

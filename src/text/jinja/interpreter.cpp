#include "text/jinja/interpreter.h"

#include "base/error.h"

namespace autarky::jinja {
namespace {

[[noreturn]] void raise_undefined(const Value& v) { throw Error(v.text); }

// Position of each field of the loop object, which is reused across iterations.
enum LoopField : std::size_t {
  kIndex, kIndex0, kRevindex, kRevindex0, kFirst, kLast, kLength, kPrevitem, kNextitem, kDepth, kDepth0, kCycle,
  kLoopFieldCount
};
constexpr const char* kLoopFieldNames[kLoopFieldCount] = {"index",    "index0",   "revindex", "revindex0",
                                                          "first",    "last",     "length",   "previtem",
                                                          "nextitem", "depth",    "depth0",   "cycle"};

std::string attr_owner(const Value& obj) {
  if (obj.is_none()) return "'None'";
  return fmt::format("'{} object'", type_name(obj));
}

}  // namespace

Interpreter::NestingGuard::NestingGuard(Interpreter& in) : interp(in) {
  if (++interp.nesting_ > interp.limits_.max_nesting) {
    fail("template nesting exceeded {} levels (deep recursion)", interp.limits_.max_nesting);
  }
}

Interpreter::Interpreter(RenderLimits limits, std::tm now) : limits_(limits), now_(now) {
  frames_.push_back(Frame{{}, 0});
  install_globals(*this);
}

void Interpreter::set_global(const std::string& name, Value value) { frames_.front().vars[name] = std::move(value); }

std::string Interpreter::render(const Template& tmpl) {
  std::string out;
  out_ = &out;
  exec_body(tmpl.body);
  out_ = nullptr;
  return out;
}

void Interpreter::charge(std::size_t steps) {
  steps_ += steps;
  if (steps_ > limits_.max_steps) fail("template exceeded the limit of {} evaluation steps", limits_.max_steps);
}

void Interpreter::charge_items(const std::vector<Value>& items) {
  std::size_t bytes = 0;
  for (const auto& v : items) bytes += v.text.size();
  charge(items.size() + bytes / 64);
}

void Interpreter::check_size(std::size_t bytes) const {
  if (bytes > limits_.max_string_bytes) fail("template produced a string of {} bytes, over the limit of {}", bytes, limits_.max_string_bytes);
}

ListObj* Interpreter::new_list() {
  if (arena_.objects() >= limits_.max_objects) fail("template created more than {} lists/dicts", limits_.max_objects);
  return arena_.new_list();
}

DictObj* Interpreter::new_dict() {
  if (arena_.objects() >= limits_.max_objects) fail("template created more than {} lists/dicts", limits_.max_objects);
  return arena_.new_dict();
}

FunctionObj* Interpreter::new_function() {
  if (arena_.objects() >= limits_.max_objects) fail("template created more than {} lists/dicts", limits_.max_objects);
  return arena_.new_function();
}

void Interpreter::emit(std::string_view text) {
  check_size(out_->size() + text.size());
  out_->append(text);
}

Value Interpreter::lookup(const std::string& name) const {
  for (std::size_t i = frames_.size() - 1;; i = frames_[i].parent) {
    auto it = frames_[i].vars.find(name);
    if (it != frames_[i].vars.end()) return it->second;
    if (i == 0) break;
  }
  return Value::undefined(fmt::format("'{}' is undefined", name));
}

void Interpreter::assign(const std::string& name, Value value) { frames_.back().vars[name] = std::move(value); }

void Interpreter::push_frame(std::size_t parent) { frames_.push_back(Frame{{}, parent}); }

std::string Interpreter::capture(const Body& body) {
  std::string buffer;
  std::string* saved = out_;
  out_ = &buffer;
  struct Restore {
    std::string*& target;
    std::string* value;
    ~Restore() { target = value; }
  } restore{out_, saved};
  exec_body(body);
  return buffer;
}

// ---------------------------------------------------------------- statements

Interpreter::Flow Interpreter::exec_body(const Body& body) {
  NestingGuard guard(*this);
  for (const auto& s : body) {
    Flow f = exec(*s);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

Interpreter::Flow Interpreter::exec(const Stmt& s) {
  charge(1);
  switch (s.kind) {
    case StmtKind::Text: emit(s.text); break;
    case StmtKind::Output: emit(to_display(eval(*s.expr))); break;
    case StmtKind::If:
      for (std::size_t i = 0; i < s.conditions.size(); ++i) {
        if (truthy(eval(*s.conditions[i]))) return exec_body(s.bodies[i]);
      }
      if (s.bodies.size() > s.conditions.size()) return exec_body(s.bodies.back());
      break;
    case StmtKind::For: return exec_for(s);
    case StmtKind::Set: exec_set(s, eval(*s.expr)); break;
    case StmtKind::SetBlock: {
      Value text = Value::from_string(capture(s.bodies[0]));
      exec_set(s, s.filter ? eval_filter_chain(*s.filter, std::move(text)) : std::move(text));
      break;
    }
    case StmtKind::Macro: define_macro(s); break;
    case StmtKind::CallBlock: exec_call_block(s); break;
    case StmtKind::FilterBlock: {
      Value text = Value::from_string(capture(s.bodies[0]));
      emit(to_display(eval_filter_chain(*s.filter, std::move(text))));
      break;
    }
    case StmtKind::Break: return Flow::Break;
    case StmtKind::Continue: return Flow::Continue;
    case StmtKind::With: {
      std::vector<Value> values;
      for (const auto& v : s.conditions) values.push_back(eval(*v));
      push_frame(frames_.size() - 1);
      for (std::size_t i = 0; i < values.size(); ++i) assign(s.targets[i], std::move(values[i]));
      Flow f = exec_body(s.bodies[0]);
      pop_frame();
      return f;
    }
    case StmtKind::Do: eval(*s.expr); break;
  }
  return Flow::Normal;
}

void Interpreter::exec_set(const Stmt& s, Value value) {
  if (!s.attr.empty()) {
    Value owner = lookup(s.targets[0]);
    if (!owner.is_dict() || !owner.dict->is_namespace) {
      fail("line {}: cannot assign attribute '{}' on '{}': only namespace() objects take attributes", s.line, s.attr,
           s.targets[0]);
    }
    owner.dict->set(Value::from_string(s.attr), std::move(value));
    return;
  }
  if (s.targets.size() == 1) {
    assign(s.targets[0], std::move(value));
    return;
  }
  std::vector<Value> parts = iterate(value);
  if (parts.size() != s.targets.size()) {
    fail("line {}: cannot unpack {} values into {} names", s.line, parts.size(), s.targets.size());
  }
  for (std::size_t i = 0; i < parts.size(); ++i) assign(s.targets[i], std::move(parts[i]));
}

Interpreter::Flow Interpreter::exec_for(const Stmt& s) {
  std::vector<Value> items = iterate(eval(*s.expr));
  charge_items(items);
  auto bind = [&](const Value& item) {
    if (s.targets.size() == 1) {
      assign(s.targets[0], item);
      return;
    }
    std::vector<Value> parts = iterate(item);
    if (parts.size() != s.targets.size()) {
      fail("line {}: cannot unpack {} values into {} loop variables", s.line, parts.size(), s.targets.size());
    }
    for (std::size_t k = 0; k < parts.size(); ++k) assign(s.targets[k], std::move(parts[k]));
  };
  if (s.filter) {
    std::vector<Value> kept;
    push_frame(frames_.size() - 1);
    for (auto& item : items) {
      bind(item);
      if (truthy(eval(*s.filter))) kept.push_back(std::move(item));
    }
    pop_frame();
    items = std::move(kept);
  }
  if (items.empty()) {
    if (s.bodies.size() < 2) return Flow::Normal;
    push_frame(frames_.size() - 1);
    Flow f = exec_body(s.bodies[1]);
    pop_frame();
    return f;
  }

  DictObj* loop = new_dict();
  for (const char* field : kLoopFieldNames) loop->set(Value::from_string(field), Value::none());
  FunctionObj* cycle = new_function();
  cycle->name = "cycle";
  cycle->native = [loop](Interpreter&, CallArgs& args) -> Value {
    if (args.positional.empty()) fail("loop.cycle() needs at least one value");
    auto index0 = static_cast<std::size_t>(loop->entries[kIndex0].second.integer);
    return args.positional[index0 % args.positional.size()];
  };
  auto& fields = loop->entries;
  const auto n = static_cast<std::int64_t>(items.size());
  fields[kLength].second = Value::from_int(n);
  fields[kDepth].second = Value::from_int(1);
  fields[kDepth0].second = Value::from_int(0);
  fields[kCycle].second = Value::from_function(cycle);
  const Value loop_value = Value::from_dict(loop);

  for (std::int64_t i = 0; i < n; ++i) {
    const auto u = static_cast<std::size_t>(i);
    fields[kIndex].second = Value::from_int(i + 1);
    fields[kIndex0].second = Value::from_int(i);
    fields[kRevindex].second = Value::from_int(n - i);
    fields[kRevindex0].second = Value::from_int(n - i - 1);
    fields[kFirst].second = Value::from_bool(i == 0);
    fields[kLast].second = Value::from_bool(i == n - 1);
    fields[kPrevitem].second = i > 0 ? items[u - 1] : Value::undefined("'loop.previtem' is undefined on the first iteration");
    fields[kNextitem].second = i + 1 < n ? items[u + 1] : Value::undefined("'loop.nextitem' is undefined on the last iteration");
    push_frame(frames_.size() - 1);
    assign("loop", loop_value);
    bind(items[u]);
    Flow f = exec_body(s.bodies[0]);
    pop_frame();
    if (f == Flow::Break) break;
  }
  return Flow::Normal;
}

void Interpreter::define_macro(const Stmt& s) {
  FunctionObj* fn = new_function();
  fn->name = s.text;
  fn->macro = &s;
  assign(s.text, Value::from_function(fn));
}

void Interpreter::exec_call_block(const Stmt& s) {
  FunctionObj* caller = new_function();
  caller->name = "caller";
  caller->macro = &s;
  caller->is_caller = true;
  caller->scope_parent = frames_.size() - 1;
  const Expr& call = *s.expr;
  Value callee = eval(*call.items[0]);
  if (callee.kind != Kind::Function) {
    if (callee.is_undefined()) raise_undefined(callee);
    fail("line {}: '{}' object is not callable", s.line, type_name(callee));
  }
  CallArgs args = eval_arguments(call, 1);
  args.keyword.emplace_back("caller", Value::from_function(caller));
  emit(to_display(this->call(callee, args)));
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
  if (callee.kind != Kind::Function) {
    if (callee.is_undefined()) raise_undefined(callee);
    fail("'{}' object is not callable", type_name(callee));
  }
  const FunctionObj& fn = *callee.function;
  if (fn.native) return fn.native(*this, args);
  return call_macro(fn, args);
}

Value Interpreter::call_macro(const FunctionObj& fn, CallArgs& args) {
  if (call_depth_ >= limits_.max_call_depth) {
    fail("macro '{}': more than {} nested macro calls (runaway recursion?)", fn.name, limits_.max_call_depth);
  }
  ++call_depth_;
  const Stmt& m = *fn.macro;
  push_frame(fn.is_caller ? fn.scope_parent : 0);
  const auto& params = m.params;
  std::vector<bool> given(params.size(), false);
  ListObj* varargs = new_list();
  varargs->is_tuple = true;
  DictObj* kwargs = new_dict();
  for (std::size_t i = 0; i < args.positional.size(); ++i) {
    if (i < params.size()) {
      assign(params[i].name, args.positional[i]);
      given[i] = true;
    } else {
      varargs->items.push_back(args.positional[i]);
    }
  }
  for (auto& [key, value] : args.keyword) {
    if (key == "caller" && !fn.is_caller) {
      assign("caller", value);
      continue;
    }
    bool matched = false;
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (params[i].name != key) continue;
      if (given[i]) fail("macro '{}' got multiple values for argument '{}'", fn.name, key);
      assign(key, value);
      given[i] = matched = true;
      break;
    }
    if (!matched) kwargs->set(Value::from_string(key), value);
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (given[i]) continue;
    assign(params[i].name, params[i].default_value
                               ? eval(*params[i].default_value)
                               : Value::undefined(fmt::format("parameter '{}' was not provided", params[i].name)));
  }
  assign("varargs", Value::from_list(varargs));
  assign("kwargs", Value::from_dict(kwargs));
  std::string text = capture(m.bodies[0]);
  pop_frame();
  --call_depth_;
  return Value::from_string(std::move(text));
}

// ---------------------------------------------------------------- expressions

Value Interpreter::eval(const Expr& e) {
  NestingGuard guard(*this);
  charge(1);
  Value v = eval_unchecked(e);
  // Values are copied by value: a big string costs in proportion to its size each time it is
  // produced, so that a loop over a large string cannot stay cheap in steps but slow in time.
  if (v.text.size() >= 64) charge(v.text.size() / 64);
  return v;
}

Value Interpreter::eval_unchecked(const Expr& e) {
  switch (e.kind) {
    case ExprKind::Literal: return e.value;
    case ExprKind::Name: return lookup(e.name);
    case ExprKind::List:
    case ExprKind::Tuple: {
      ListObj* l = new_list();
      l->is_tuple = e.kind == ExprKind::Tuple;
      for (const auto& item : e.items) l->items.push_back(eval(*item));
      return Value::from_list(l);
    }
    case ExprKind::Dict: {
      DictObj* d = new_dict();
      for (std::size_t i = 0; i + 1 < e.items.size(); i += 2) {
        Value key = eval(*e.items[i]);
        d->set(key, eval(*e.items[i + 1]));
      }
      return Value::from_dict(d);
    }
    case ExprKind::GetAttr: return get_attr(eval(*e.items[0]), e.name);
    case ExprKind::GetItem: {
      Value obj = eval(*e.items[0]);
      return get_item(obj, eval(*e.items[1]));
    }
    case ExprKind::Slice: {
      Value obj = eval(*e.items[0]);
      if (obj.is_undefined()) raise_undefined(obj);
      Value parts[3];
      for (int i = 0; i < 3; ++i) parts[i] = e.items[1 + i] ? eval(*e.items[1 + i]) : Value::none();
      return slice_value(*this, obj, parts[0], parts[1], parts[2]);
    }
    case ExprKind::Call: return eval_call(e);
    case ExprKind::Filter: {
      Value input = eval(*e.items[0]);
      CallArgs args = eval_arguments(e, 1);
      return apply_filter(*this, e.name, std::move(input), args);
    }
    case ExprKind::Test: {
      Value input = eval(*e.items[0]);
      CallArgs args = eval_arguments(e, 1);
      return Value::from_bool(apply_test(*this, e.name, input, args) != e.negated);
    }
    case ExprKind::Unary: {
      Value v = eval(*e.items[0]);
      if (e.name == "not") return Value::from_bool(!truthy(v));
      if (v.is_undefined()) raise_undefined(v);
      if (!v.is_number()) fail("bad operand type for unary {}: '{}'", e.name, type_name(v));
      if (e.name == "+") return v.kind == Kind::Bool ? Value::from_int(v.as_int()) : v;
      if (v.kind == Kind::Float) return Value::from_float(-v.number);
      if (v.as_int() == INT64_MIN) fail("integer overflow");
      return Value::from_int(-v.as_int());
    }
    case ExprKind::Binary: return eval_binary(e);
    case ExprKind::Compare: return eval_compare(e);
    case ExprKind::Condition:
      if (truthy(eval(*e.items[0]))) return eval(*e.items[1]);
      if (e.items[2]) return eval(*e.items[2]);
      return Value::undefined(
          fmt::format("the inline if-expression on line {} evaluated to false and no else section was defined.", e.line));
  }
  return Value();
}

Value Interpreter::eval_binary(const Expr& e) {
  Value left = eval(*e.items[0]);
  if (e.name == "and") return truthy(left) ? eval(*e.items[1]) : left;
  if (e.name == "or") return truthy(left) ? left : eval(*e.items[1]);
  Value right = eval(*e.items[1]);
  return binary_operator(*this, e.name, left, right);
}

Value Interpreter::eval_compare(const Expr& e) {
  Value left = eval(*e.items[0]);
  for (std::size_t i = 0; i < e.ops.size(); ++i) {
    Value right = eval(*e.items[i + 1]);
    const std::string& op = e.ops[i];
    bool ok;
    if (op == "==") {
      ok = values_equal(left, right);
    } else if (op == "!=") {
      ok = !values_equal(left, right);
    } else if (op == "in" || op == "notin") {
      ok = truthy(binary_operator(*this, "in", left, right)) == (op == "in");
    } else {
      if (left.is_undefined()) raise_undefined(left);
      if (right.is_undefined()) raise_undefined(right);
      if (op == "<") ok = value_less(left, right);
      else if (op == ">") ok = value_less(right, left);
      else if (op == "<=") ok = !value_less(right, left);
      else ok = !value_less(left, right);
    }
    if (!ok) return Value::from_bool(false);
    left = std::move(right);
  }
  return Value::from_bool(true);
}

CallArgs Interpreter::eval_arguments(const Expr& e, std::size_t first_arg) {
  CallArgs args;
  for (std::size_t i = first_arg; i < e.items.size(); ++i) args.positional.push_back(eval(*e.items[i]));
  for (const auto& [key, value] : e.kwargs) args.keyword.emplace_back(key, eval(*value));
  return args;
}

Value Interpreter::eval_call(const Expr& e) {
  const Expr& callee = *e.items[0];
  if (callee.kind == ExprKind::GetAttr) {
    // obj.name(...): a Python method of the value's type, else an attribute holding a callable.
    Value obj = eval(*callee.items[0]);
    if (obj.is_undefined()) raise_undefined(obj);
    CallArgs args = eval_arguments(e, 1);
    Value result;
    if (!(obj.is_dict() && obj.dict->is_namespace) && call_method(*this, obj, callee.name, args, result)) return result;
    Value fn = get_attr(obj, callee.name);
    if (fn.is_undefined()) raise_undefined(fn);
    return call(fn, args);
  }
  Value fn = eval(callee);
  CallArgs args = eval_arguments(e, 1);
  return call(fn, args);
}

Value Interpreter::eval_filter_chain(const Expr& chain, Value input) {
  if (chain.kind != ExprKind::Filter) return input;  // the placeholder for the block's text
  Value inner = eval_filter_chain(*chain.items[0], std::move(input));
  CallArgs args = eval_arguments(chain, 1);
  return apply_filter(*this, chain.name, std::move(inner), args);
}

Value Interpreter::get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) raise_undefined(obj);
  if (obj.is_dict()) {
    if (const Value* v = obj.dict->find(name)) return *v;
  }
  return Value::undefined(fmt::format("{} has no attribute '{}'", attr_owner(obj), name));
}

Value Interpreter::get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) raise_undefined(obj);
  if (obj.is_dict()) {
    if (const Value* v = obj.dict->find(key)) return *v;
  } else if ((obj.is_list() || obj.is_string()) && key.is_integral()) {
    const bool is_str = obj.is_string();
    const std::int64_t n = static_cast<std::int64_t>(is_str ? value_length(obj) : obj.list->items.size());
    std::int64_t i = key.as_int();
    if (i < 0) i += n;
    if (i >= 0 && i < n) {
      const auto u = static_cast<std::size_t>(i);
      if (!is_str) return obj.list->items[u];
      if (is_ascii(obj.text)) return Value::from_string(obj.text.substr(u, 1));
      auto offsets = utf8_offsets(obj.text);
      return Value::from_string(obj.text.substr(offsets[u], offsets[u + 1] - offsets[u]));
    }
  }
  if (key.is_string()) return get_attr(obj, key.text);
  return Value::undefined(fmt::format("{} object has no element {}", type_name(obj), to_repr(key)));
}

}  // namespace autarky::jinja

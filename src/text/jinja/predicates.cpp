// jinja2's tests: the names after `is` (`x is defined`, `n is divisibleby 3`, ...).

#include <cmath>
#include <unordered_map>

#include "base/error.h"
#include "text/jinja/interpreter.h"
#include "text/jinja/strings.h"

namespace autarky::jinja {
namespace {

using TestFn = bool (*)(Interpreter&, const Value&, const std::vector<Value>&);

const Value& arg(const std::vector<Value>& args, const char* test) {
  if (args.empty()) fail("test '{}' needs an argument", test);
  return args[0];
}

bool t_defined(Interpreter&, const Value& v, const std::vector<Value>&) { return !v.is_undefined(); }
bool t_undefined(Interpreter&, const Value& v, const std::vector<Value>&) { return v.is_undefined(); }
bool t_none(Interpreter&, const Value& v, const std::vector<Value>&) { return v.is_none(); }
bool t_string(Interpreter&, const Value& v, const std::vector<Value>&) { return v.is_string(); }
bool t_number(Interpreter&, const Value& v, const std::vector<Value>&) { return v.is_number(); }
bool t_integer(Interpreter&, const Value& v, const std::vector<Value>&) { return v.kind == Kind::Int; }
bool t_float(Interpreter&, const Value& v, const std::vector<Value>&) { return v.kind == Kind::Float; }
bool t_boolean(Interpreter&, const Value& v, const std::vector<Value>&) { return v.kind == Kind::Bool; }
bool t_true(Interpreter&, const Value& v, const std::vector<Value>&) { return v.kind == Kind::Bool && v.boolean; }
bool t_false(Interpreter&, const Value& v, const std::vector<Value>&) { return v.kind == Kind::Bool && !v.boolean; }
bool t_mapping(Interpreter&, const Value& v, const std::vector<Value>&) { return v.is_dict() && !v.dict->is_namespace; }
bool t_callable(Interpreter&, const Value& v, const std::vector<Value>&) { return v.kind == Kind::Function; }
bool t_iterable(Interpreter&, const Value& v, const std::vector<Value>&) {
  return v.is_undefined() || v.is_string() || v.is_list() || (v.is_dict() && !v.dict->is_namespace);
}
bool t_sequence(Interpreter&, const Value& v, const std::vector<Value>&) {
  return v.is_string() || v.is_list() || (v.is_dict() && !v.dict->is_namespace);
}

std::int64_t integer_of(const Value& v, const char* test) {
  if (!v.is_number()) fail("test '{}' needs a number, got {}", test, type_name(v));
  if (v.kind != Kind::Float) return v.as_int();
  if (!std::isfinite(v.number) || std::fabs(v.number) > 9.0e18) fail("test '{}': {} is out of range", test, v.number);
  return static_cast<std::int64_t>(v.number);
}
bool t_even(Interpreter&, const Value& v, const std::vector<Value>&) { return integer_of(v, "even") % 2 == 0; }
bool t_odd(Interpreter&, const Value& v, const std::vector<Value>&) { return integer_of(v, "odd") % 2 != 0; }
bool t_divisibleby(Interpreter&, const Value& v, const std::vector<Value>& a) {
  const Value& d = arg(a, "divisibleby");
  if (!v.is_number() || !d.is_number()) fail("test 'divisibleby' needs numbers");
  if (v.is_integral() && d.is_integral()) {
    if (d.as_int() == 0) fail("integer division or modulo by zero");
    if (d.as_int() == -1) return true;
    return v.as_int() % d.as_int() == 0;
  }
  if (d.as_double() == 0) fail("float modulo");
  return std::fmod(v.as_double(), d.as_double()) == 0;
}

bool t_eq(Interpreter&, const Value& v, const std::vector<Value>& a) { return values_equal(v, arg(a, "eq")); }
bool t_ne(Interpreter&, const Value& v, const std::vector<Value>& a) { return !values_equal(v, arg(a, "ne")); }
bool t_lt(Interpreter&, const Value& v, const std::vector<Value>& a) { return value_less(v, arg(a, "lt")); }
bool t_gt(Interpreter&, const Value& v, const std::vector<Value>& a) { return value_less(arg(a, "gt"), v); }
bool t_le(Interpreter&, const Value& v, const std::vector<Value>& a) { return !value_less(arg(a, "le"), v); }
bool t_ge(Interpreter&, const Value& v, const std::vector<Value>& a) { return !value_less(v, arg(a, "ge")); }
bool t_in(Interpreter& in, const Value& v, const std::vector<Value>& a) {
  return truthy(binary_operator(in, "in", v, arg(a, "in")));
}

// Python's `is`: identity. Containers compare by address; None/True/False are singletons; small
// ints and equal strings are usually the same object in CPython, which equality approximates.
bool t_sameas(Interpreter&, const Value& v, const std::vector<Value>& a) {
  const Value& other = arg(a, "sameas");
  if (v.kind != other.kind) return false;
  switch (v.kind) {
    case Kind::List: return v.list == other.list;
    case Kind::Dict: return v.dict == other.dict;
    case Kind::Function: return v.function == other.function;
    default: return values_equal(v, other);
  }
}

bool t_lower(Interpreter&, const Value& v, const std::vector<Value>&) {
  return v.is_string() && py_lower(v.text) == v.text && py_upper(v.text) != v.text;
}
bool t_upper(Interpreter&, const Value& v, const std::vector<Value>&) {
  return v.is_string() && py_upper(v.text) == v.text && py_lower(v.text) != v.text;
}
bool t_escaped(Interpreter&, const Value&, const std::vector<Value>&) { return false; }

const std::unordered_map<std::string, TestFn>& test_table() {
  static const std::unordered_map<std::string, TestFn> table = {
      {"defined", t_defined},   {"undefined", t_undefined}, {"none", t_none},          {"string", t_string},
      {"number", t_number},     {"integer", t_integer},     {"float", t_float},        {"boolean", t_boolean},
      {"true", t_true},         {"false", t_false},         {"mapping", t_mapping},    {"callable", t_callable},
      {"iterable", t_iterable}, {"sequence", t_sequence},   {"even", t_even},          {"odd", t_odd},
      {"divisibleby", t_divisibleby}, {"eq", t_eq},         {"equalto", t_eq},         {"==", t_eq},
      {"ne", t_ne},             {"!=", t_ne},               {"lt", t_lt},              {"lessthan", t_lt},
      {"<", t_lt},              {"le", t_le},               {"<=", t_le},              {"gt", t_gt},
      {"greaterthan", t_gt},    {">", t_gt},                {"ge", t_ge},              {">=", t_ge},
      {"in", t_in},             {"sameas", t_sameas},       {"lower", t_lower},        {"upper", t_upper},
      {"escaped", t_escaped},
  };
  return table;
}

}  // namespace

bool apply_test(Interpreter& in, const std::string& name, const Value& input, CallArgs& args) {
  const auto& table = test_table();
  auto it = table.find(name);
  if (it == table.end()) fail("no test named '{}'", name);
  return it->second(in, input, args.positional);
}

}  // namespace autarky::jinja

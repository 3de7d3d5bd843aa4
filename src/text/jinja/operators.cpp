// Python semantics of the binary operators, iteration and slicing.

#include <cmath>

#include "base/error.h"
#include "text/jinja/interpreter.h"
#include "text/jinja/strings.h"

namespace autarky::jinja {
namespace {

[[noreturn]] void unsupported(const std::string& op, const Value& a, const Value& b) {
  fail("unsupported operand type(s) for {}: '{}' and '{}'", op, type_name(a), type_name(b));
}

Value repeat(Interpreter& in, const Value& seq, std::int64_t times) {
  if (times < 0) times = 0;
  const auto count = static_cast<std::size_t>(times);
  if (seq.is_string()) {
    if (count && seq.text.size() > in.limits().max_string_bytes / count) in.check_size(in.limits().max_string_bytes + 1);
    in.charge(seq.text.size() * count / 64 + 1);
    std::string out;
    out.reserve(seq.text.size() * count);
    for (std::size_t i = 0; i < count; ++i) out += seq.text;
    return Value::from_string(std::move(out));
  }
  const std::size_t n = seq.list->items.size();
  if (count && n > in.limits().max_steps / count) in.charge(in.limits().max_steps + 1);
  for (std::size_t i = 0; i < count; ++i) in.charge_items(seq.list->items);
  ListObj* l = in.new_list();
  l->is_tuple = seq.list->is_tuple;
  for (std::size_t i = 0; i < count; ++i) l->items.insert(l->items.end(), seq.list->items.begin(), seq.list->items.end());
  return Value::from_list(l);
}

double python_fmod(double a, double b) {
  double r = std::fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

Value arithmetic(Interpreter& in, const std::string& op, const Value& a, const Value& b) {
  if (!a.is_number() || !b.is_number()) unsupported(op, a, b);
  const bool ints = a.is_integral() && b.is_integral();
  if (ints) {
    const std::int64_t x = a.as_int();
    const std::int64_t y = b.as_int();
    std::int64_t r = 0;
    if (op == "+" && !__builtin_add_overflow(x, y, &r)) return Value::from_int(r);
    if (op == "-" && !__builtin_sub_overflow(x, y, &r)) return Value::from_int(r);
    if (op == "*" && !__builtin_mul_overflow(x, y, &r)) return Value::from_int(r);
    if (op == "//" || op == "%") {
      if (y == 0) fail("integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) fail("integer overflow");
      std::int64_t q = x / y;
      std::int64_t m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        --q;
        m += y;
      }
      return Value::from_int(op == "//" ? q : m);
    }
    if (op == "**" && y >= 0) {
      std::int64_t result = 1;
      for (std::int64_t i = 0; i < y; ++i) {
        in.charge(1);
        if (__builtin_mul_overflow(result, x, &result)) fail("integer overflow in {} ** {}", x, y);
        if (result == 0 || result == 1) break;
      }
      if (result == 1 && x == -1 && (y % 2) == 1) result = -1;
      return Value::from_int(result);
    }
    if (op == "+" || op == "-" || op == "*") fail("integer overflow in {} {} {}", x, op, y);
  }
  const double x = a.as_double();
  const double y = b.as_double();
  if (op == "+") return Value::from_float(x + y);
  if (op == "-") return Value::from_float(x - y);
  if (op == "*") return Value::from_float(x * y);
  if (op == "/") {
    if (y == 0) fail("division by zero");
    return Value::from_float(x / y);
  }
  if (op == "//") {
    if (y == 0) fail("float floor division by zero");
    return Value::from_float(std::floor(x / y));
  }
  if (op == "%") {
    if (y == 0) fail("float modulo");
    return Value::from_float(python_fmod(x, y));
  }
  if (op == "**") {
    if (x == 0 && y < 0) fail("0.0 cannot be raised to a negative power");
    return Value::from_float(std::pow(x, y));
  }
  unsupported(op, a, b);
}

bool contains(Interpreter& in, const Value& container, const Value& item) {
  switch (container.kind) {
    case Kind::String:
      if (!item.is_string()) fail("'in <string>' requires string as left operand, not {}", type_name(item));
      return container.text.find(item.text) != std::string::npos;
    case Kind::List:
      in.charge(container.list->items.size());
      for (const auto& v : container.list->items)
        if (values_equal(v, item)) return true;
      return false;
    case Kind::Dict: return container.dict->find(item) != nullptr;
    case Kind::Undefined: return false;
    default: fail("argument of type '{}' is not iterable", type_name(container));
  }
}

}  // namespace

Value binary_operator(Interpreter& in, const std::string& op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string s = to_display(a);
    std::string t = to_display(b);
    in.check_size(s.size() + t.size());
    return Value::from_string(s + t);
  }
  if (op == "in") return Value::from_bool(contains(in, b, a));
  if (a.is_undefined()) throw Error(a.text);
  if (b.is_undefined()) throw Error(b.text);
  if (op == "+") {
    if (a.is_string() || b.is_string()) {
      if (!a.is_string() || !b.is_string()) {
        if (a.is_string()) fail("can only concatenate str (not \"{}\") to str", type_name(b));
        unsupported(op, a, b);
      }
      in.check_size(a.text.size() + b.text.size());
      in.charge((a.text.size() + b.text.size()) / 4096);
      return Value::from_string(a.text + b.text);
    }
    if (a.is_list() || b.is_list()) {
      if (!a.is_list() || !b.is_list() || a.list->is_tuple != b.list->is_tuple) {
        if (a.is_list()) fail("can only concatenate {0} (not \"{1}\") to {0}", type_name(a), type_name(b));
        unsupported(op, a, b);
      }
      in.charge_items(a.list->items);
      in.charge_items(b.list->items);
      ListObj* l = in.new_list();
      l->is_tuple = a.list->is_tuple;
      l->items = a.list->items;
      l->items.insert(l->items.end(), b.list->items.begin(), b.list->items.end());
      return Value::from_list(l);
    }
  }
  if (op == "*") {
    if ((a.is_string() || a.is_list()) && b.is_integral()) return repeat(in, a, b.as_int());
    if ((b.is_string() || b.is_list()) && a.is_integral()) return repeat(in, b, a.as_int());
  }
  if (op == "%" && a.is_string()) return Value::from_string(percent_format(in, a.text, b));
  return arithmetic(in, op, a, b);
}

std::vector<Value> iterate(const Value& v) {
  switch (v.kind) {
    case Kind::List: return v.list->items;
    case Kind::Dict: {
      std::vector<Value> keys;
      keys.reserve(v.dict->entries.size());
      for (const auto& [k, val] : v.dict->entries) keys.push_back(k);
      return keys;
    }
    case Kind::String: {
      std::vector<Value> chars;
      auto offsets = utf8_offsets(v.text);
      for (std::size_t i = 0; i + 1 < offsets.size(); ++i)
        chars.push_back(Value::from_string(v.text.substr(offsets[i], offsets[i + 1] - offsets[i])));
      return chars;
    }
    case Kind::Undefined: return {};
    default: fail("'{}' object is not iterable", type_name(v));
  }
}

Value slice_value(Interpreter& in, const Value& v, const Value& start_v, const Value& stop_v, const Value& step_v) {
  if (!v.is_list() && !v.is_string()) fail("'{}' object is not subscriptable", type_name(v));
  auto as_index = [](const Value& x, const char* what) -> std::optional<std::int64_t> {
    if (x.is_none()) return std::nullopt;
    if (!x.is_integral()) fail("slice {} must be an integer or None, not {}", what, type_name(x));
    return x.as_int();
  };
  const std::int64_t step = as_index(step_v, "step").value_or(1);
  if (step == 0) fail("slice step cannot be zero");
  const bool ascii = !v.is_string() || is_ascii(v.text);
  std::vector<std::size_t> offsets;
  if (!ascii) offsets = utf8_offsets(v.text);
  const auto n = static_cast<std::int64_t>(v.is_list() ? v.list->items.size() : ascii ? v.text.size() : offsets.size() - 1);
  auto clamp = [&](std::optional<std::int64_t> x, std::int64_t fallback) {
    if (!x) return fallback;
    std::int64_t i = *x < 0 ? *x + n : *x;
    if (step > 0) return std::clamp<std::int64_t>(i, 0, n);
    return std::clamp<std::int64_t>(i, -1, n - 1);
  };
  const std::int64_t start = clamp(as_index(start_v, "start"), step > 0 ? 0 : n - 1);
  const std::int64_t stop = clamp(as_index(stop_v, "stop"), step > 0 ? n : -1);
  std::vector<std::size_t> picked;
  for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) picked.push_back(static_cast<std::size_t>(i));
  in.charge(picked.size() + (v.is_string() ? picked.size() / 64 : 0));
  if (v.is_list()) {
    ListObj* l = in.new_list();
    l->is_tuple = v.list->is_tuple;
    for (std::size_t i : picked) l->items.push_back(v.list->items[i]);
    return Value::from_list(l);
  }
  std::string out;
  for (std::size_t i : picked) {
    if (ascii) out += v.text[i];
    else out.append(v.text, offsets[i], offsets[i + 1] - offsets[i]);
  }
  return Value::from_string(std::move(out));
}

}  // namespace autarky::jinja

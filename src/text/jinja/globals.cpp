// Global functions: jinja2's range/namespace/dict and the two Hugging Face adds to chat
// templates, raise_exception(message) and strftime_now(format).

#include <ctime>

#include "base/error.h"
#include "text/jinja/interpreter.h"

namespace autarky::jinja {
namespace {

Value g_range(Interpreter& in, CallArgs& args) {
  if (!args.keyword.empty()) fail("range() takes no keyword arguments");
  const auto& p = args.positional;
  if (p.empty() || p.size() > 3) fail("range expected 1 to 3 arguments, got {}", p.size());
  for (const auto& v : p)
    if (!v.is_integral()) fail("'{}' object cannot be interpreted as an integer", type_name(v));
  std::int64_t start = 0, stop = 0, step = 1;
  if (p.size() == 1) {
    stop = p[0].as_int();
  } else {
    start = p[0].as_int();
    stop = p[1].as_int();
    if (p.size() == 3) step = p[2].as_int();
  }
  if (step == 0) fail("range() arg 3 must not be zero");
  // Count with wide arithmetic so that extreme bounds cannot overflow.
  __int128 span = step > 0 ? static_cast<__int128>(stop) - start : static_cast<__int128>(start) - stop;
  __int128 abs_step = step > 0 ? step : -static_cast<__int128>(step);
  __int128 count = span <= 0 ? 0 : (span + abs_step - 1) / abs_step;
  // Two steps per number: the list is built here and a loop over it copies it once more.
  if (count > static_cast<__int128>(in.limits().max_steps)) in.charge(in.limits().max_steps + 1);
  in.charge(2 * static_cast<std::size_t>(count));
  ListObj* l = in.new_list();
  l->items.reserve(static_cast<std::size_t>(count));
  for (__int128 i = 0; i < count; ++i) l->items.push_back(Value::from_int(static_cast<std::int64_t>(start + i * step)));
  return Value::from_list(l);
}

// namespace(...) and dict(...): mappings given positionally, then keyword arguments.
Value make_mapping(Interpreter& in, CallArgs& args, bool is_namespace) {
  DictObj* d = in.new_dict();
  d->is_namespace = is_namespace;
  for (const auto& m : args.positional) {
    if (!m.is_dict()) fail("{}() expects mappings as positional arguments, got {}", is_namespace ? "namespace" : "dict", type_name(m));
    for (const auto& [k, v] : m.dict->entries) d->set(k, v);
  }
  for (const auto& [k, v] : args.keyword) d->set(Value::from_string(k), v);
  in.charge(d->entries.size());
  return Value::from_dict(d);
}

Value g_raise_exception(Interpreter&, CallArgs& args) {
  std::string message = args.positional.empty() ? "" : to_display(args.positional[0]);
  throw TemplateRaised(message);
}

Value g_strftime_now(Interpreter& in, CallArgs& args) {
  auto p = bind_arguments(args, {"format"}, "strftime_now");
  std::string format = to_display(p[0]);
  if (format.size() > 1024) fail("strftime_now: format longer than 1024 bytes");
  if (format.empty()) return Value::from_string("");
  std::string buffer(64 * 1024, '\0');
  std::size_t n = std::strftime(buffer.data(), buffer.size(), format.c_str(), &in.now());
  buffer.resize(n);
  return Value::from_string(std::move(buffer));
}

void add(Interpreter& in, const std::string& name, NativeFunction fn) {
  FunctionObj* f = in.new_function();
  f->name = name;
  f->native = std::move(fn);
  in.set_global(name, Value::from_function(f));
}

}  // namespace

std::vector<Value> bind_arguments(const CallArgs& args, std::initializer_list<std::string_view> params,
                                  std::string_view function_name) {
  std::vector<Value> bound(params.size());
  std::vector<bool> given(params.size(), false);
  if (args.positional.size() > params.size()) {
    fail("{}() takes at most {} arguments ({} given)", function_name, params.size(), args.positional.size());
  }
  for (std::size_t i = 0; i < args.positional.size(); ++i) {
    bound[i] = args.positional[i];
    given[i] = true;
  }
  for (const auto& [key, value] : args.keyword) {
    std::size_t i = 0;
    for (auto param : params) {
      if (!param.empty() && param.back() == '?') param.remove_suffix(1);
      if (param == key) break;
      ++i;
    }
    if (i == params.size()) fail("{}() got an unexpected keyword argument '{}'", function_name, key);
    if (given[i]) fail("{}() got multiple values for argument '{}'", function_name, key);
    bound[i] = value;
    given[i] = true;
  }
  std::size_t i = 0;
  for (auto param : params) {
    if (!given[i] && (param.empty() || param.back() != '?')) {
      fail("{}() missing required argument '{}'", function_name, param);
    }
    ++i;
  }
  return bound;
}

void install_globals(Interpreter& in) {
  add(in, "range", g_range);
  add(in, "namespace", [](Interpreter& i, CallArgs& a) { return make_mapping(i, a, true); });
  add(in, "dict", [](Interpreter& i, CallArgs& a) { return make_mapping(i, a, false); });
  add(in, "raise_exception", g_raise_exception);
  add(in, "strftime_now", g_strftime_now);
}

}  // namespace autarky::jinja

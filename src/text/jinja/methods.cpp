// Python methods templates call on values: str (startswith, split, strip, ...), dict (items,
// get, ...) and list (append, index, ...). jinja2's sandbox (which Hugging Face uses) forbids
// mutating lists and dicts; we allow it, as other template engines do, because containers live
// in the render's arena and the step and object limits still bound what a template can build.

#include <algorithm>

#include "base/error.h"
#include "text/jinja/interpreter.h"
#include "text/jinja/strings.h"

namespace autarky::jinja {
namespace {

std::optional<std::string> optional_string(const Value& v) {
  if (v.is_undefined() || v.is_none()) return std::nullopt;
  if (!v.is_string()) fail("expected a string argument, got {}", type_name(v));
  return v.text;
}

std::int64_t optional_int(const Value& v, std::int64_t fallback) {
  if (v.is_undefined() || v.is_none()) return fallback;
  if (!v.is_integral()) fail("expected an integer argument, got {}", type_name(v));
  return v.as_int();
}

Value string_list(Interpreter& in, const std::vector<std::string>& parts) {
  in.charge(parts.size());
  ListObj* l = in.new_list();
  for (const auto& p : parts) l->items.push_back(Value::from_string(p));
  return Value::from_list(l);
}

// Byte offset -> code point index, for find/index results.
std::int64_t code_point_index(std::string_view s, std::size_t byte_offset) {
  std::int64_t n = 0;
  for (std::size_t i = 0; i < byte_offset && i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++n;
  return n;
}

// Substring of `s` between code point indexes start/end (Python slice semantics, None = open).
std::string_view code_point_range(std::string_view s, const Value& start, const Value& end, std::size_t* byte_begin) {
  auto offsets = utf8_offsets(s);
  const auto n = static_cast<std::int64_t>(offsets.size() - 1);
  auto norm = [&](const Value& v, std::int64_t fallback) {
    std::int64_t i = optional_int(v, fallback);
    if (i < 0) i += n;
    return std::clamp<std::int64_t>(i, 0, n);
  };
  const std::int64_t b = norm(start, 0);
  const std::int64_t e = std::max(b, norm(end, n));
  *byte_begin = offsets[static_cast<std::size_t>(b)];
  return s.substr(*byte_begin, offsets[static_cast<std::size_t>(e)] - *byte_begin);
}

bool affix_match(const Value& self, const std::vector<Value>& p, bool prefix) {
  std::size_t begin = 0;
  std::string_view window = code_point_range(self.text, p[1], p[2], &begin);
  auto one = [&](const Value& candidate) {
    if (!candidate.is_string()) fail("{} first arg must be str or a tuple of str, not {}", prefix ? "startswith" : "endswith", type_name(candidate));
    const std::string& c = candidate.text;
    if (c.size() > window.size()) return false;
    return prefix ? window.compare(0, c.size(), c) == 0 : window.compare(window.size() - c.size(), c.size(), c) == 0;
  };
  if (p[0].is_list()) return std::any_of(p[0].list->items.begin(), p[0].list->items.end(), one);
  return one(p[0]);
}

bool all_chars(const std::string& s, int (*pred)(int)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) { return pred(static_cast<unsigned char>(c)) != 0; });
}

bool string_method(Interpreter& in, const Value& self, const std::string& name, CallArgs& args, Value& result) {
  const std::string& s = self.text;
  auto bind = [&](std::initializer_list<std::string_view> params) { return bind_arguments(args, params, name); };
  if (name == "startswith" || name == "endswith") {
    result = Value::from_bool(affix_match(self, bind({"prefix", "start?", "end?"}), name == "startswith"));
  } else if (name == "strip" || name == "lstrip" || name == "rstrip") {
    auto p = bind({"chars?"});
    result = Value::from_string(py_strip(s, optional_string(p[0]), name != "rstrip", name != "lstrip"));
  } else if (name == "split" || name == "rsplit") {
    auto p = bind({"sep?", "maxsplit?"});
    auto sep = optional_string(p[0]);
    auto max = optional_int(p[1], -1);
    result = string_list(in, name == "split" ? py_split(s, sep, max) : py_rsplit(s, sep, max));
  } else if (name == "splitlines") {
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\n' && s[i] != '\r') continue;
      lines.push_back(s.substr(start, i - start));
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      start = i + 1;
    }
    if (start < s.size()) lines.push_back(s.substr(start));
    result = string_list(in, lines);
  } else if (name == "replace") {
    auto p = bind({"old", "new", "count?"});
    result = Value::from_string(py_replace(in, s, to_display(p[0]), to_display(p[1]), optional_int(p[2], -1)));
  } else if (name == "upper") {
    result = Value::from_string(py_upper(s));
  } else if (name == "lower") {
    result = Value::from_string(py_lower(s));
  } else if (name == "title") {
    result = Value::from_string(py_title(s));
  } else if (name == "capitalize") {
    result = Value::from_string(py_capitalize(s));
  } else if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    auto p = bind({"sub", "start?", "end?"});
    if (!p[0].is_string()) fail("{}: must be str, not {}", name, type_name(p[0]));
    std::size_t base = 0;
    std::string_view window = code_point_range(s, p[1], p[2], &base);
    const std::string& sub = p[0].text;
    if (name == "count") {
      std::int64_t n = 0;
      if (sub.empty()) {
        n = code_point_index(window, window.size()) + 1;
      } else {
        for (std::size_t at = window.find(sub); at != std::string_view::npos; at = window.find(sub, at + sub.size())) ++n;
      }
      result = Value::from_int(n);
    } else {
      std::size_t at = (name == "find" || name == "index") ? window.find(sub) : window.rfind(sub);
      if (at == std::string_view::npos && (name == "index" || name == "rindex")) fail("substring not found");
      result = Value::from_int(at == std::string_view::npos ? -1 : code_point_index(s, base + at));
    }
  } else if (name == "format") {
    result = Value::from_string(brace_format(in, s, args));
  } else if (name == "join") {
    auto p = bind({"iterable"});
    std::string out;
    bool first = true;
    for (const auto& item : iterate(p[0])) {
      if (!item.is_string()) fail("sequence item: expected str instance, {} found", type_name(item));
      if (!first) out += s;
      first = false;
      out += item.text;
      in.check_size(out.size());
    }
    result = Value::from_string(std::move(out));
  } else if (name == "removeprefix" || name == "removesuffix") {
    auto p = bind({"affix"});
    std::string a = to_display(p[0]);
    std::string out = s;
    if (name == "removeprefix" && out.compare(0, a.size(), a) == 0) out.erase(0, a.size());
    if (name == "removesuffix" && out.size() >= a.size() && out.compare(out.size() - a.size(), a.size(), a) == 0)
      out.resize(out.size() - a.size());
    result = Value::from_string(std::move(out));
  } else if (name == "isdigit") {
    result = Value::from_bool(all_chars(s, ::isdigit));
  } else if (name == "isalpha") {
    result = Value::from_bool(all_chars(s, ::isalpha));
  } else if (name == "isalnum") {
    result = Value::from_bool(all_chars(s, ::isalnum));
  } else if (name == "isspace") {
    result = Value::from_bool(all_chars(s, ::isspace));
  } else if (name == "islower") {
    result = Value::from_bool(py_lower(s) == s && py_upper(s) != s);
  } else if (name == "isupper") {
    result = Value::from_bool(py_upper(s) == s && py_lower(s) != s);
  } else {
    return false;
  }
  return true;
}

bool dict_method(Interpreter& in, const Value& self, const std::string& name, CallArgs& args, Value& result) {
  DictObj& d = *self.dict;
  auto bind = [&](std::initializer_list<std::string_view> params) { return bind_arguments(args, params, name); };
  if (name == "items" || name == "keys" || name == "values") {
    bind({});
    in.charge(d.entries.size());
    ListObj* l = in.new_list();
    for (const auto& [k, v] : d.entries) {
      if (name == "keys") {
        l->items.push_back(k);
      } else if (name == "values") {
        l->items.push_back(v);
      } else {
        ListObj* pair = in.new_list();
        pair->is_tuple = true;
        pair->items = {k, v};
        l->items.push_back(Value::from_list(pair));
      }
    }
    result = Value::from_list(l);
  } else if (name == "get") {
    auto p = bind({"key", "default?"});
    const Value* found = d.find(p[0]);
    result = found ? *found : (p[1].is_undefined() ? Value::none() : p[1]);
  } else if (name == "pop") {
    auto p = bind({"key", "default?"});
    const Value* found = d.find(p[0]);
    if (!found && p[1].is_undefined()) fail("KeyError: {}", to_repr(p[0]));
    result = found ? *found : p[1];
    if (found) d.erase(p[0]);
  } else if (name == "setdefault") {
    auto p = bind({"key", "default?"});
    if (const Value* found = d.find(p[0])) {
      result = *found;
    } else {
      result = p[1].is_undefined() ? Value::none() : p[1];
      d.set(p[0], result);
    }
  } else if (name == "update") {
    for (const auto& other : args.positional) {
      if (!other.is_dict()) fail("dict.update: expected a mapping, got {}", type_name(other));
      for (const auto& [k, v] : other.dict->entries) d.set(k, v);
    }
    for (const auto& [k, v] : args.keyword) d.set(Value::from_string(k), v);
    result = Value::none();
  } else if (name == "copy") {
    DictObj* copy = in.new_dict();
    *copy = d;
    copy->is_namespace = false;
    in.charge(d.entries.size());
    result = Value::from_dict(copy);
  } else {
    return false;
  }
  return true;
}

bool list_method(Interpreter& in, const Value& self, const std::string& name, CallArgs& args, Value& result) {
  auto& items = self.list->items;
  auto bind = [&](std::initializer_list<std::string_view> params) { return bind_arguments(args, params, name); };
  const bool tuple = self.list->is_tuple;
  auto find = [&](const Value& x) {
    in.charge(items.size());
    for (std::size_t i = 0; i < items.size(); ++i)
      if (values_equal(items[i], x)) return static_cast<std::int64_t>(i);
    return std::int64_t{-1};
  };
  if (name == "index") {
    auto p = bind({"value"});
    std::int64_t i = find(p[0]);
    if (i < 0) fail("{} is not in list", to_repr(p[0]));
    result = Value::from_int(i);
  } else if (name == "count") {
    auto p = bind({"value"});
    in.charge(items.size());
    result = Value::from_int(std::count_if(items.begin(), items.end(), [&](const Value& v) { return values_equal(v, p[0]); }));
  } else if (tuple) {
    return false;
  } else if (name == "append") {
    auto p = bind({"object"});
    in.charge(1);
    items.push_back(p[0]);
    result = Value::none();
  } else if (name == "extend") {
    auto p = bind({"iterable"});
    auto more = iterate(p[0]);
    in.charge(more.size());
    items.insert(items.end(), more.begin(), more.end());
    result = Value::none();
  } else if (name == "insert") {
    auto p = bind({"index", "object"});
    std::int64_t n = static_cast<std::int64_t>(items.size());
    std::int64_t i = optional_int(p[0], 0);
    if (i < 0) i += n;
    i = std::clamp<std::int64_t>(i, 0, n);
    in.charge(items.size());
    items.insert(items.begin() + i, p[1]);
    result = Value::none();
  } else if (name == "pop") {
    auto p = bind({"index?"});
    if (items.empty()) fail("pop from empty list");
    std::int64_t n = static_cast<std::int64_t>(items.size());
    std::int64_t i = optional_int(p[0], -1);
    if (i < 0) i += n;
    if (i < 0 || i >= n) fail("pop index out of range");
    result = items[static_cast<std::size_t>(i)];
    items.erase(items.begin() + i);
  } else if (name == "remove") {
    auto p = bind({"value"});
    std::int64_t i = find(p[0]);
    if (i < 0) fail("list.remove(x): x not in list");
    items.erase(items.begin() + i);
    result = Value::none();
  } else if (name == "reverse") {
    bind({});
    std::reverse(items.begin(), items.end());
    result = Value::none();
  } else if (name == "copy") {
    bind({});
    in.charge(items.size());
    ListObj* copy = in.new_list();
    copy->items = items;
    result = Value::from_list(copy);
  } else {
    return false;
  }
  return true;
}

}  // namespace

bool call_method(Interpreter& in, Value& self, const std::string& name, CallArgs& args, Value& result) {
  switch (self.kind) {
    case Kind::String: return string_method(in, self, name, args, result);
    case Kind::Dict: return !self.dict->is_namespace && dict_method(in, self, name, args, result);
    case Kind::List: return list_method(in, self, name, args, result);
    default: return false;
  }
}

}  // namespace autarky::jinja

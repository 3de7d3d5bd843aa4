// jinja2's builtin filters that chat templates use, plus Hugging Face's tojson.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include "base/error.h"
#include "text/jinja/interpreter.h"
#include "text/jinja/strings.h"

namespace autarky::jinja {
namespace {

using FilterFn = Value (*)(Interpreter&, Value&, CallArgs&);

std::optional<std::string> optional_string(const Value& v) {
  if (v.is_undefined() || v.is_none()) return std::nullopt;
  return to_display(v);
}

Value make_list(Interpreter& in, std::vector<Value> items) {
  in.charge_items(items);
  ListObj* l = in.new_list();
  l->items = std::move(items);
  return Value::from_list(l);
}

Value make_tuple(Interpreter& in, Value a, Value b) {
  ListObj* t = in.new_list();
  t->is_tuple = true;
  t->items.push_back(std::move(a));
  t->items.push_back(std::move(b));
  return Value::from_list(t);
}

// jinja2's attribute getter: "a.b.0" walks dict keys and integer indexes; a missing part is undefined.
Value get_path(const Value& item, const Value& attribute) {
  if (attribute.is_integral()) {
    if (item.is_list()) {
      std::int64_t i = attribute.as_int();
      if (i >= 0 && static_cast<std::size_t>(i) < item.list->items.size()) return item.list->items[static_cast<std::size_t>(i)];
    }
    return Value::undefined("no such element");
  }
  std::string path = to_display(attribute);
  Value current = item;
  std::size_t start = 0;
  for (;;) {
    std::size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    Value next = Value::undefined(fmt::format("{} has no attribute '{}'", type_name(current), part));
    if (current.is_dict()) {
      if (const Value* v = current.dict->find(part)) next = *v;
    } else if (current.is_list() && !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit) && part.size() < 10) {
      std::size_t i = std::stoul(part);
      if (i < current.list->items.size()) next = current.list->items[i];
    }
    current = std::move(next);
    if (dot == std::string::npos || current.is_undefined()) return current;
    start = dot + 1;
  }
}

// select/reject/selectattr/rejectattr share this: keep items whose (attribute) passes the test.
Value select_items(Interpreter& in, Value& input, CallArgs& args, bool by_attribute, bool keep_when) {
  std::vector<Value> rest = args.positional;
  Value attribute;
  if (by_attribute) {
    if (rest.empty()) fail("selectattr/rejectattr need an attribute name");
    attribute = rest.front();
    rest.erase(rest.begin());
  }
  std::string test;
  if (!rest.empty()) {
    test = to_display(rest.front());
    rest.erase(rest.begin());
  }
  std::vector<Value> kept;
  for (auto& item : iterate(input)) {
    in.charge(1);
    Value subject = by_attribute ? get_path(item, attribute) : item;
    bool passed;
    if (test.empty()) {
      passed = truthy(subject);
    } else {
      CallArgs test_args;
      test_args.positional = rest;
      passed = apply_test(in, test, subject, test_args);
    }
    if (passed == keep_when) kept.push_back(item);
  }
  return make_list(in, std::move(kept));
}

Value f_select(Interpreter& in, Value& v, CallArgs& a) { return select_items(in, v, a, false, true); }
Value f_reject(Interpreter& in, Value& v, CallArgs& a) { return select_items(in, v, a, false, false); }
Value f_selectattr(Interpreter& in, Value& v, CallArgs& a) { return select_items(in, v, a, true, true); }
Value f_rejectattr(Interpreter& in, Value& v, CallArgs& a) { return select_items(in, v, a, true, false); }

Value f_map(Interpreter& in, Value& v, CallArgs& a) {
  std::vector<Value> out;
  const Value* attribute = nullptr;
  const Value* fallback = nullptr;
  for (const auto& [k, val] : a.keyword) {
    if (k == "attribute") attribute = &val;
    else if (k == "default") fallback = &val;
  }
  for (auto& item : iterate(v)) {
    in.charge(1);
    if (attribute) {
      Value got = get_path(item, *attribute);
      out.push_back(got.is_undefined() && fallback ? *fallback : got);
    } else {
      if (a.positional.empty()) fail("map() needs a filter name or attribute=");
      CallArgs rest;
      rest.positional.assign(a.positional.begin() + 1, a.positional.end());
      rest.keyword = a.keyword;
      out.push_back(apply_filter(in, to_display(a.positional[0]), item, rest));
    }
  }
  return make_list(in, std::move(out));
}

Value f_tojson(Interpreter& in, Value& v, CallArgs& a) {
  // Hugging Face's signature: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
  auto p = bind_arguments(a, {"ensure_ascii?", "indent?", "separators?", "sort_keys?"}, "tojson");
  JsonStyle style;
  style.ensure_ascii = truthy(p[0]);
  if (!p[1].is_undefined() && !p[1].is_none()) {
    style.indent_set = true;
    if (p[1].is_integral()) style.indent = std::string(static_cast<std::size_t>(std::clamp<std::int64_t>(p[1].as_int(), 0, 64)), ' ');
    else style.indent = to_display(p[1]);
    style.item_separator = ",";
  }
  if (!p[2].is_undefined() && !p[2].is_none()) {
    if (!p[2].is_list() || p[2].list->items.size() != 2) fail("tojson: separators must be a pair of strings");
    style.item_separator = to_display(p[2].list->items[0]);
    style.key_separator = to_display(p[2].list->items[1]);
  }
  style.sort_keys = truthy(p[3]);
  std::string text = to_json_text(v, style);
  in.check_size(text.size());
  in.charge(text.size() / 64);
  return Value::from_string(std::move(text));
}

Value f_length(Interpreter&, Value& v, CallArgs&) { return Value::from_int(static_cast<std::int64_t>(value_length(v))); }

Value f_items(Interpreter& in, Value& v, CallArgs&) {
  if (v.is_undefined()) return make_list(in, {});
  if (!v.is_dict()) fail("Can only get item pairs from a mapping.");
  std::vector<Value> pairs;
  for (const auto& [k, val] : v.dict->entries) pairs.push_back(make_tuple(in, k, val));
  return make_list(in, std::move(pairs));
}

Value f_join(Interpreter& in, Value& v, CallArgs& a) {
  auto p = bind_arguments(a, {"d?", "attribute?"}, "join");
  const std::string sep = p[0].is_undefined() ? "" : to_display(p[0]);
  std::string out;
  bool first = true;
  for (auto& item : iterate(v)) {
    if (!first) out += sep;
    first = false;
    out += to_display(p[1].is_undefined() ? item : get_path(item, p[1]));
    in.check_size(out.size());
  }
  return Value::from_string(std::move(out));
}

Value f_trim(Interpreter&, Value& v, CallArgs& a) {
  auto p = bind_arguments(a, {"chars?"}, "trim");
  return Value::from_string(py_strip(to_display(v), optional_string(p[0]), true, true));
}

Value f_replace(Interpreter& in, Value& v, CallArgs& a) {
  auto p = bind_arguments(a, {"old", "new", "count?"}, "replace");
  std::int64_t count = p[2].is_integral() ? p[2].as_int() : -1;
  return Value::from_string(py_replace(in, to_display(v), to_display(p[0]), to_display(p[1]), count));
}

Value f_lower(Interpreter&, Value& v, CallArgs&) { return Value::from_string(py_lower(to_display(v))); }
Value f_upper(Interpreter&, Value& v, CallArgs&) { return Value::from_string(py_upper(to_display(v))); }
Value f_title(Interpreter&, Value& v, CallArgs&) { return Value::from_string(py_title(to_display(v))); }
Value f_capitalize(Interpreter&, Value& v, CallArgs&) { return Value::from_string(py_capitalize(to_display(v))); }
Value f_string(Interpreter&, Value& v, CallArgs&) { return v.is_string() ? v : Value::from_string(to_display(v)); }
Value f_safe(Interpreter&, Value& v, CallArgs&) { return v; }

Value f_first(Interpreter&, Value& v, CallArgs&) {
  auto items = iterate(v);
  return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
}

Value f_last(Interpreter&, Value& v, CallArgs&) {
  auto items = iterate(v);
  return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
}

Value f_list(Interpreter& in, Value& v, CallArgs&) { return make_list(in, iterate(v)); }

Value f_int(Interpreter&, Value& v, CallArgs& a) {
  auto p = bind_arguments(a, {"default?", "base?"}, "int");
  Value fallback = p[0].is_undefined() ? Value::from_int(0) : p[0];
  if (v.is_integral()) return Value::from_int(v.as_int());
  if (v.kind == Kind::Float) {
    if (!std::isfinite(v.number) || std::fabs(v.number) > 9.2e18) return fallback;
    return Value::from_int(static_cast<std::int64_t>(v.number));
  }
  if (v.is_string()) {
    std::string s = py_strip(v.text, std::nullopt, true, true);
    s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
    const int base = p[1].is_integral() ? static_cast<int>(p[1].as_int()) : 10;
    if (base < 2 || base > 36) return fallback;
    errno = 0;
    char* end = nullptr;
    long long x = std::strtoll(s.c_str(), &end, base);
    if (!s.empty() && end && *end == '\0' && errno == 0) return Value::from_int(x);
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0' && std::isfinite(d) && std::fabs(d) < 9.2e18) return Value::from_int(static_cast<std::int64_t>(d));
  }
  return fallback;
}

Value f_float(Interpreter&, Value& v, CallArgs& a) {
  auto p = bind_arguments(a, {"default?"}, "float");
  Value fallback = p[0].is_undefined() ? Value::from_float(0.0) : p[0];
  if (v.is_number()) return Value::from_float(v.as_double());
  if (v.is_string()) {
    std::string s = py_strip(v.text, std::nullopt, true, true);
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0') return Value::from_float(d);
  }
  return fallback;
}

Value f_default(Interpreter&, Value& v, CallArgs& a) {
  auto p = bind_arguments(a, {"default_value?", "boolean?"}, "default");
  Value fallback = p[0].is_undefined() ? Value::from_string("") : p[0];
  if (v.is_undefined() || (truthy(p[1]) && !truthy(v))) return fallback;
  return v;
}

Value f_escape(Interpreter& in, Value& v, CallArgs&) {
  std::string s = to_display(v);
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  in.check_size(out.size());
  return Value::from_string(std::move(out));
}

Value f_indent(Interpreter& in, Value& v, CallArgs& a) {
  auto p = bind_arguments(a, {"width?", "first?", "blank?"}, "indent");
  std::string pad;
  if (p[0].is_undefined()) pad = "    ";
  else if (p[0].is_integral()) pad = std::string(static_cast<std::size_t>(std::clamp<std::int64_t>(p[0].as_int(), 0, 256)), ' ');
  else pad = to_display(p[0]);
  // jinja2 appends a newline and then splits into lines, so a trailing newline survives unindented.
  std::string s = to_display(v) + "\n";
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || s[i] == '\r') {
      lines.push_back(s.substr(start, i - start));
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  if (start < s.size()) lines.push_back(s.substr(start));
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += '\n';
    const bool indent_line = i == 0 ? truthy(p[1]) : (truthy(p[2]) || !lines[i].empty());
    if (indent_line) out += pad;
    out += lines[i];
    in.check_size(out.size());
  }
  return Value::from_string(std::move(out));
}

// Sort key: strings compare case-insensitively unless asked otherwise, as jinja2 does.
Value sort_key(const Value& v, bool case_sensitive) {
  return v.is_string() && !case_sensitive ? Value::from_string(py_lower(v.text)) : v;
}

Value f_unique(Interpreter& in, Value& v, CallArgs& a) {
  auto p = bind_arguments(a, {"case_sensitive?", "attribute?"}, "unique");
  std::vector<Value> out;
  std::vector<Value> seen;
  for (auto& item : iterate(v)) {
    Value key = sort_key(p[1].is_undefined() ? item : get_path(item, p[1]), truthy(p[0]));
    in.charge(seen.size() / 16 + 1);
    if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return values_equal(s, key); })) continue;
    seen.push_back(key);
    out.push_back(item);
  }
  return make_list(in, std::move(out));
}

Value f_sort(Interpreter& in, Value& v, CallArgs& a) {
  auto p = bind_arguments(a, {"reverse?", "case_sensitive?", "attribute?"}, "sort");
  std::vector<Value> items = iterate(v);
  const bool case_sensitive = truthy(p[1]);
  std::vector<std::pair<Value, std::size_t>> keyed;
  for (std::size_t i = 0; i < items.size(); ++i)
    keyed.emplace_back(sort_key(p[2].is_undefined() ? items[i] : get_path(items[i], p[2]), case_sensitive), i);
  in.charge(items.size() * 8);
  const bool reverse = truthy(p[0]);
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    return reverse ? value_less(y.first, x.first) : value_less(x.first, y.first);
  });
  std::vector<Value> out;
  for (auto& [key, i] : keyed) out.push_back(items[i]);
  return make_list(in, std::move(out));
}

Value f_dictsort(Interpreter& in, Value& v, CallArgs& a) {
  auto p = bind_arguments(a, {"case_sensitive?", "by?", "reverse?"}, "dictsort");
  if (!v.is_dict()) fail("dictsort: expected a mapping, got {}", type_name(v));
  const bool by_value = !p[1].is_undefined() && to_display(p[1]) == "value";
  std::vector<std::pair<Value, Value>> entries = v.dict->entries;
  const bool reverse = truthy(p[2]);
  std::stable_sort(entries.begin(), entries.end(), [&](const auto& x, const auto& y) {
    Value kx = sort_key(by_value ? x.second : x.first, truthy(p[0]));
    Value ky = sort_key(by_value ? y.second : y.first, truthy(p[0]));
    return reverse ? value_less(ky, kx) : value_less(kx, ky);
  });
  std::vector<Value> out;
  for (auto& [k, val] : entries) out.push_back(make_tuple(in, k, val));
  return make_list(in, std::move(out));
}

Value f_reverse(Interpreter& in, Value& v, CallArgs&) {
  if (v.is_string()) {
    auto chars = iterate(v);
    std::string out;
    for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += it->text;
    return Value::from_string(std::move(out));
  }
  std::vector<Value> items = iterate(v);
  std::reverse(items.begin(), items.end());
  return make_list(in, std::move(items));
}

Value f_round(Interpreter&, Value& v, CallArgs& a) {
  auto p = bind_arguments(a, {"precision?", "method?"}, "round");
  if (!v.is_number()) fail("round: expected a number, got {}", type_name(v));
  const std::int64_t precision = p[0].is_integral() ? std::clamp<std::int64_t>(p[0].as_int(), -300, 300) : 0;
  const std::string method = p[1].is_undefined() ? "common" : to_display(p[1]);
  if (method == "common" && v.is_integral() && p[0].is_undefined()) return Value::from_int(v.as_int());
  const double x = v.as_double();
  const double scale = std::pow(10.0, static_cast<double>(precision));
  if (method == "floor") return Value::from_float(std::floor(x * scale) / scale);
  if (method == "ceil") return Value::from_float(std::ceil(x * scale) / scale);
  if (method != "common") fail("round: method must be 'common', 'ceil' or 'floor'");
  if (precision <= 0 || !std::isfinite(x)) return Value::from_float(std::nearbyint(x * scale) / scale);
  // Python rounds the exact binary value half-to-even; printf does the same.
  char buf[512];
  std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(precision), x);
  return Value::from_float(std::strtod(buf, nullptr));
}

Value f_abs(Interpreter&, Value& v, CallArgs&) {
  if (v.kind == Kind::Float) return Value::from_float(std::fabs(v.number));
  if (!v.is_integral()) fail("bad operand type for abs(): '{}'", type_name(v));
  if (v.as_int() == INT64_MIN) fail("integer overflow");
  return Value::from_int(std::llabs(v.as_int()));
}

Value f_wordcount(Interpreter&, Value& v, CallArgs&) {
  std::string s = to_display(v);
  std::int64_t words = 0;
  bool in_word = false;
  for (unsigned char c : s) {
    const bool word_char = std::isalnum(c) || c == '_' || c >= 0x80;
    if (word_char && !in_word) ++words;
    in_word = word_char;
  }
  return Value::from_int(words);
}

Value f_sum(Interpreter& in, Value& v, CallArgs& a) {
  auto p = bind_arguments(a, {"attribute?", "start?"}, "sum");
  Value total = p[1].is_undefined() ? Value::from_int(0) : p[1];
  for (auto& item : iterate(v)) total = binary_operator(in, "+", total, p[0].is_undefined() ? item : get_path(item, p[0]));
  return total;
}

Value min_max(Interpreter&, Value& v, CallArgs& a, bool want_max) {
  auto p = bind_arguments(a, {"case_sensitive?", "attribute?"}, want_max ? "max" : "min");
  auto items = iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  std::size_t best = 0;
  auto key = [&](std::size_t i) { return sort_key(p[1].is_undefined() ? items[i] : get_path(items[i], p[1]), truthy(p[0])); };
  for (std::size_t i = 1; i < items.size(); ++i) {
    if (want_max ? value_less(key(best), key(i)) : value_less(key(i), key(best))) best = i;
  }
  return items[best];
}
Value f_min(Interpreter& in, Value& v, CallArgs& a) { return min_max(in, v, a, false); }
Value f_max(Interpreter& in, Value& v, CallArgs& a) { return min_max(in, v, a, true); }

Value f_attr(Interpreter&, Value& v, CallArgs& a) {
  auto p = bind_arguments(a, {"name"}, "attr");
  if (v.is_dict()) {
    if (const Value* found = v.dict->find(to_display(p[0]))) return *found;
  }
  return Value::undefined(fmt::format("'{}' object has no attribute '{}'", type_name(v), to_display(p[0])));
}

Value f_format(Interpreter& in, Value& v, CallArgs& a) {
  if (!a.keyword.empty()) {
    DictObj* d = in.new_dict();
    for (auto& [k, val] : a.keyword) d->set(Value::from_string(k), val);
    return Value::from_string(percent_format(in, to_display(v), Value::from_dict(d)));
  }
  ListObj* t = in.new_list();
  t->is_tuple = true;
  t->items = a.positional;
  return Value::from_string(percent_format(in, to_display(v), Value::from_list(t)));
}

Value f_center(Interpreter& in, Value& v, CallArgs& a) {
  auto p = bind_arguments(a, {"width?"}, "center");
  std::string s = to_display(v);
  const std::size_t width = p[0].is_integral() ? static_cast<std::size_t>(std::clamp<std::int64_t>(p[0].as_int(), 0, 4096)) : 80;
  const std::size_t len = value_length(Value::from_string(s));
  if (len >= width) return Value::from_string(s);
  const std::size_t total = width - len;
  // Python's str.center puts the odd extra space on the right unless the width is odd.
  const std::size_t left = total / 2 + (total & width & 1);
  in.charge(width);
  return Value::from_string(std::string(left, ' ') + s + std::string(total - left, ' '));
}

Value f_pprint(Interpreter&, Value& v, CallArgs&) { return Value::from_string(to_repr(v)); }

const std::unordered_map<std::string, FilterFn>& filter_table() {
  static const std::unordered_map<std::string, FilterFn> table = {
      {"abs", f_abs},         {"attr", f_attr},         {"capitalize", f_capitalize}, {"center", f_center},
      {"count", f_length},    {"d", f_default},         {"default", f_default},       {"dictsort", f_dictsort},
      {"e", f_escape},        {"escape", f_escape},     {"first", f_first},           {"float", f_float},
      {"forceescape", f_escape}, {"format", f_format},  {"indent", f_indent},         {"int", f_int},
      {"items", f_items},     {"join", f_join},         {"last", f_last},             {"length", f_length},
      {"list", f_list},       {"lower", f_lower},       {"map", f_map},               {"max", f_max},
      {"min", f_min},         {"pprint", f_pprint},     {"reject", f_reject},         {"rejectattr", f_rejectattr},
      {"replace", f_replace}, {"reverse", f_reverse},   {"round", f_round},           {"safe", f_safe},
      {"select", f_select},   {"selectattr", f_selectattr}, {"sort", f_sort},         {"string", f_string},
      {"sum", f_sum},         {"title", f_title},       {"tojson", f_tojson},         {"trim", f_trim},
      {"unique", f_unique},   {"upper", f_upper},       {"wordcount", f_wordcount},
  };
  return table;
}

}  // namespace

Value apply_filter(Interpreter& in, const std::string& name, Value input, CallArgs& args) {
  const auto& table = filter_table();
  auto it = table.find(name);
  if (it == table.end()) fail("no filter named '{}'", name);
  return it->second(in, input, args);
}

}  // namespace autarky::jinja

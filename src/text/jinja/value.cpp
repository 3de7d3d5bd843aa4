#include "text/jinja/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "base/error.h"

namespace autarky::jinja {
namespace {

void check_depth(int depth) {
  if (depth < 0) fail("value nested too deeply (or contains itself) to be printed or compared");
}

std::string dict_key_form(const Value& key) {
  switch (key.kind) {
    case Kind::String: return "s" + key.text;
    case Kind::Bool:
    case Kind::Int: return "i" + std::to_string(key.as_int());
    case Kind::Float:
      if (std::isfinite(key.number) && key.number == std::floor(key.number) && std::fabs(key.number) < 9.0e18)
        return "i" + std::to_string(static_cast<std::int64_t>(key.number));
      return "f" + format_python_float(key.number);
    case Kind::None: return "n";
    case Kind::List:
      if (key.list->is_tuple) return "t" + to_repr(key);
      break;
    default: break;
  }
  fail("unhashable type: '{}'", type_name(key));
}

void append_repr_string(std::string& out, std::string_view s) {
  // Python prefers single quotes, and switches to double quotes when only ' occurs.
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  out += quote;
  for (unsigned char c : s) {
    if (c == static_cast<unsigned char>(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += quote;
}

void append_repr(std::string& out, const Value& v, int depth);

void append_display(std::string& out, const Value& v, int depth) {
  check_depth(depth);
  switch (v.kind) {
    case Kind::Undefined: return;
    case Kind::None: out += "None"; return;
    case Kind::Bool: out += v.boolean ? "True" : "False"; return;
    case Kind::Int: out += std::to_string(v.integer); return;
    case Kind::Float: out += format_python_float(v.number); return;
    case Kind::String: out += v.text; return;
    case Kind::List: {
      const bool tuple = v.list->is_tuple;
      out += tuple ? '(' : '[';
      for (std::size_t i = 0; i < v.list->items.size(); ++i) {
        if (i) out += ", ";
        append_repr(out, v.list->items[i], depth - 1);
      }
      if (tuple && v.list->items.size() == 1) out += ',';
      out += tuple ? ')' : ']';
      return;
    }
    case Kind::Dict: {
      if (v.dict->is_namespace) out += "<Namespace ";
      out += '{';
      bool first = true;
      for (const auto& [k, val] : v.dict->entries) {
        if (!first) out += ", ";
        first = false;
        append_repr(out, k, depth - 1);
        out += ": ";
        append_repr(out, val, depth - 1);
      }
      out += '}';
      if (v.dict->is_namespace) out += '>';
      return;
    }
    case Kind::Function: out += "<function " + v.function->name + ">"; return;
  }
}

void append_repr(std::string& out, const Value& v, int depth) {
  if (v.kind == Kind::String) {
    append_repr_string(out, v.text);
  } else if (v.kind == Kind::Undefined) {
    out += "Undefined";
  } else {
    append_display(out, v, depth);
  }
}

// Decodes the UTF-8 sequence at s[i]; malformed input yields U+FFFD for one byte.
std::uint32_t decode_utf8(std::string_view s, std::size_t& i) {
  auto c = static_cast<unsigned char>(s[i]);
  int extra = c >= 0xF0 && c < 0xF8 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
  if (c >= 0xF8 || (c >= 0x80 && c < 0xC0) || i + static_cast<std::size_t>(extra) >= s.size()) {
    ++i;
    return 0xFFFD;
  }
  std::uint32_t cp = extra == 0 ? c : extra == 1 ? (c & 0x1F) : extra == 2 ? (c & 0x0F) : (c & 0x07);
  for (int k = 1; k <= extra; ++k) {
    auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((cc & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  i += static_cast<std::size_t>(extra) + 1;
  return cp;
}

void append_json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  if (ensure_ascii && !is_ascii(s)) {
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
      if (static_cast<unsigned char>(s[i]) < 0x80) {
        std::string one;
        append_json_string(one, s.substr(i, 1), false);
        out.append(one, 1, one.size() - 2);
        ++i;
        continue;
      }
      std::uint32_t cp = decode_utf8(s, i);
      char buf[16];
      if (cp >= 0x10000) {
        cp -= 0x10000;
        std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", cp);
      }
      out += buf;
    }
    out += '"';
    return;
  }
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void append_json(std::string& out, const Value& v, const JsonStyle& style, int level, int depth) {
  check_depth(depth);
  auto newline = [&](int lvl) {
    if (!style.indent_set) return;
    out += '\n';
    for (int i = 0; i < lvl; ++i) out += style.indent;
  };
  switch (v.kind) {
    case Kind::None: out += "null"; return;
    case Kind::Bool: out += v.boolean ? "true" : "false"; return;
    case Kind::Int: out += std::to_string(v.integer); return;
    case Kind::Float:
      if (std::isnan(v.number)) out += "NaN";
      else if (std::isinf(v.number)) out += v.number > 0 ? "Infinity" : "-Infinity";
      else out += format_python_float(v.number);
      return;
    case Kind::String: append_json_string(out, v.text, style.ensure_ascii); return;
    case Kind::List: {
      if (v.list->items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (std::size_t i = 0; i < v.list->items.size(); ++i) {
        if (i) out += style.item_separator;
        newline(level + 1);
        append_json(out, v.list->items[i], style, level + 1, depth - 1);
      }
      newline(level);
      out += ']';
      return;
    }
    case Kind::Dict: {
      if (v.dict->entries.empty()) {
        out += "{}";
        return;
      }
      std::vector<const std::pair<Value, Value>*> entries;
      for (const auto& e : v.dict->entries) entries.push_back(&e);
      if (style.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(),
                         [&](const auto* a, const auto* b) { return value_less(a->first, b->first, depth); });
      }
      out += '{';
      for (std::size_t i = 0; i < entries.size(); ++i) {
        if (i) out += style.item_separator;
        newline(level + 1);
        const Value& key = entries[i]->first;
        // json.dumps turns scalar keys into strings the way JSON spells them.
        if (key.kind == Kind::String) append_json_string(out, key.text, style.ensure_ascii);
        else if (key.kind == Kind::None) out += "\"null\"";
        else if (key.kind == Kind::Bool) out += key.boolean ? "\"true\"" : "\"false\"";
        else if (key.kind == Kind::Int || key.kind == Kind::Float) append_json_string(out, to_display(key), false);
        else fail("keys must be str, int, float, bool or None, not {}", type_name(key));
        out += style.key_separator;
        append_json(out, entries[i]->second, style, level + 1, depth - 1);
      }
      newline(level);
      out += '}';
      return;
    }
    case Kind::Undefined: fail("Object of type Undefined is not JSON serializable");
    case Kind::Function: fail("Object of type function is not JSON serializable");
  }
}

}  // namespace

const Value* DictObj::find(const Value& key) const {
  if (key.kind == Kind::List && !key.list->is_tuple) return nullptr;
  if (key.kind == Kind::Dict || key.kind == Kind::Function || key.kind == Kind::Undefined) return nullptr;
  auto it = index.find(dict_key_form(key));
  return it == index.end() ? nullptr : &entries[it->second].second;
}

const Value* DictObj::find(std::string_view key) const {
  std::string form = "s";
  form += key;
  auto it = index.find(form);
  return it == index.end() ? nullptr : &entries[it->second].second;
}

void DictObj::set(const Value& key, Value value) {
  auto [it, inserted] = index.emplace(dict_key_form(key), entries.size());
  if (inserted) entries.emplace_back(key, std::move(value));
  else entries[it->second].second = std::move(value);
}

bool DictObj::erase(const Value& key) {
  auto it = index.find(dict_key_form(key));
  if (it == index.end()) return false;
  std::size_t pos = it->second;
  entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(pos));
  index.erase(it);
  for (auto& [form, p] : index) {
    if (p > pos) --p;
  }
  return true;
}

ListObj* Arena::new_list() { return &lists_.emplace_back(); }
DictObj* Arena::new_dict() { return &dicts_.emplace_back(); }
FunctionObj* Arena::new_function() { return &functions_.emplace_back(); }

bool truthy(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined:
    case Kind::None: return false;
    case Kind::Bool: return v.boolean;
    case Kind::Int: return v.integer != 0;
    case Kind::Float: return v.number != 0.0;
    case Kind::String: return !v.text.empty();
    case Kind::List: return !v.list->items.empty();
    case Kind::Dict: return v.dict->is_namespace || !v.dict->entries.empty();
    case Kind::Function: return true;
  }
  return false;
}

const char* type_name(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::List: return v.list->is_tuple ? "tuple" : "list";
    case Kind::Dict: return v.dict->is_namespace ? "Namespace" : "dict";
    case Kind::Function: return "function";
  }
  return "?";
}

std::string format_python_float(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  // Shortest round-trip digits, then laid out like Python's repr(): positional notation for
  // decimal exponents in [-4, 16), scientific otherwise, always with a '.0' or an exponent.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string sign;
  if (!sci.empty() && sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  std::size_t e_pos = sci.find('e');
  std::string mantissa = sci.substr(0, e_pos);
  int exponent = std::stoi(sci.substr(e_pos + 1));
  std::string digits;
  for (char c : mantissa)
    if (c != '.') digits += c;
  if (d == 0.0) return sign + "0.0";
  if (exponent >= -4 && exponent < 16) {
    int point = exponent + 1;  // digits before the decimal point
    std::string out;
    if (point <= 0) {
      out = "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
    } else if (static_cast<std::size_t>(point) >= digits.size()) {
      out = digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<std::size_t>(point)) + "." + digits.substr(static_cast<std::size_t>(point));
    }
    return sign + out;
  }
  std::string out = digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return sign + out + exp_buf;
}

std::string to_display(const Value& v, int max_depth) {
  if (v.kind == Kind::String) return v.text;
  std::string out;
  append_display(out, v, max_depth);
  return out;
}

std::string to_repr(const Value& v, int max_depth) {
  std::string out;
  append_repr(out, v, max_depth);
  return out;
}

bool values_equal(const Value& a, const Value& b, int depth) {
  check_depth(depth);
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() == b.as_int();
    return a.as_double() == b.as_double();
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::Undefined:
    case Kind::None: return true;
    case Kind::String: return a.text == b.text;
    case Kind::List: {
      if (a.list == b.list) return true;
      if (a.list->is_tuple != b.list->is_tuple || a.list->items.size() != b.list->items.size()) return false;
      for (std::size_t i = 0; i < a.list->items.size(); ++i)
        if (!values_equal(a.list->items[i], b.list->items[i], depth - 1)) return false;
      return true;
    }
    case Kind::Dict: {
      if (a.dict == b.dict) return true;
      if (a.dict->is_namespace || b.dict->is_namespace) return false;
      if (a.dict->entries.size() != b.dict->entries.size()) return false;
      for (const auto& [k, v] : a.dict->entries) {
        const Value* other = b.dict->find(k);
        if (!other || !values_equal(v, *other, depth - 1)) return false;
      }
      return true;
    }
    case Kind::Function: return a.function == b.function;
    default: return false;
  }
}

bool value_less(const Value& a, const Value& b, int depth) {
  check_depth(depth);
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() < b.as_int();
    return a.as_double() < b.as_double();
  }
  if (a.kind == Kind::String && b.kind == Kind::String) return a.text < b.text;  // UTF-8 keeps code point order
  if (a.kind == Kind::List && b.kind == Kind::List && a.list->is_tuple == b.list->is_tuple) {
    const auto& x = a.list->items;
    const auto& y = b.list->items;
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (values_equal(x[i], y[i], depth - 1)) continue;
      return value_less(x[i], y[i], depth - 1);
    }
    return x.size() < y.size();
  }
  fail("'<' not supported between instances of '{}' and '{}'", type_name(a), type_name(b));
}

std::size_t value_length(const Value& v) {
  switch (v.kind) {
    case Kind::String: return is_ascii(v.text) ? v.text.size() : utf8_offsets(v.text).size() - 1;
    case Kind::List: return v.list->items.size();
    case Kind::Dict: return v.dict->entries.size();
    case Kind::Undefined: return 0;
    default: fail("object of type '{}' has no len()", type_name(v));
  }
}

std::string to_json_text(const Value& v, const JsonStyle& style, int max_depth) {
  std::string out;
  append_json(out, v, style, 0, max_depth);
  return out;
}

Value from_json(const nlohmann::ordered_json& j, Arena& arena) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value::from_bool(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value::from_int(j.get<std::int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      auto u = j.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(INT64_MAX)) return Value::from_float(static_cast<double>(u));
      return Value::from_int(static_cast<std::int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value::from_float(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value::from_string(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      ListObj* l = arena.new_list();
      for (const auto& item : j) l->items.push_back(from_json(item, arena));
      return Value::from_list(l);
    }
    case nlohmann::ordered_json::value_t::object: {
      DictObj* d = arena.new_dict();
      for (const auto& [k, item] : j.items()) d->set(Value::from_string(k), from_json(item, arena));
      return Value::from_dict(d);
    }
    default: fail("unsupported JSON value of type {}", j.type_name());
  }
}

std::vector<std::size_t> utf8_offsets(std::string_view s) {
  std::vector<std::size_t> offsets;
  offsets.reserve(s.size() + 1);
  for (std::size_t i = 0; i < s.size(); ++i) {
    // Continuation bytes belong to the code point before them; stray ones count on their own.
    auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80 || offsets.empty()) offsets.push_back(i);
  }
  offsets.push_back(s.size());
  return offsets;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

}  // namespace autarky::jinja

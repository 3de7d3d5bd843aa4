#include "text/jinja/strings.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "base/error.h"
#include "text/jinja/interpreter.h"

namespace autarky::jinja {
namespace {

bool ascii_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool ascii_lower(char c) { return c >= 'a' && c <= 'z'; }
char to_upper(char c) { return ascii_lower(c) ? static_cast<char>(c - 32) : c; }
char to_lower(char c) { return ascii_upper(c) ? static_cast<char>(c + 32) : c; }

// Code points of `chars`, as UTF-8 substrings.
std::vector<std::string_view> code_points(std::string_view s) {
  std::vector<std::string_view> out;
  auto offsets = utf8_offsets(s);
  for (std::size_t i = 0; i + 1 < offsets.size(); ++i) out.push_back(s.substr(offsets[i], offsets[i + 1] - offsets[i]));
  return out;
}

std::string format_number(const char* spec, double d) {
  char buf[4400];
  std::snprintf(buf, sizeof buf, spec, d);
  return buf;
}

}  // namespace

bool is_python_space(std::string_view s, std::size_t i, std::size_t* length) {
  auto c = static_cast<unsigned char>(s[i]);
  *length = 1;
  if (c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f)) return true;
  if (c < 0x80) return false;
  auto at = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0; };
  if (c == 0xC2 && (at(1) == 0x85 || at(1) == 0xA0)) {
    *length = 2;
    return true;
  }
  if (c == 0xE1 && at(1) == 0x9A && at(2) == 0x80) {
    *length = 3;
    return true;
  }
  if (c == 0xE2 && at(1) == 0x80 && ((at(2) >= 0x80 && at(2) <= 0x8A) || at(2) == 0xA8 || at(2) == 0xA9 || at(2) == 0xAF)) {
    *length = 3;
    return true;
  }
  if (c == 0xE2 && at(1) == 0x81 && at(2) == 0x9F) {
    *length = 3;
    return true;
  }
  if (c == 0xE3 && at(1) == 0x80 && at(2) == 0x80) {
    *length = 3;
    return true;
  }
  return false;
}

std::string py_strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right) {
  if (!chars) {
    std::size_t begin = 0;
    std::size_t end = s.size();
    std::size_t len = 0;
    if (left) {
      while (begin < end && is_python_space(s, begin, &len)) begin += len;
    }
    if (right) {
      // Trailing whitespace starts after the last code point that is not whitespace.
      std::size_t content_end = begin;
      for (std::size_t i = begin; i < end;) {
        if (is_python_space(s, i, &len)) {
          i += len;
          continue;
        }
        ++i;
        while (i < end && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
        content_end = i;
      }
      end = content_end;
    }
    return std::string(s.substr(begin, end - begin));
  }
  auto set = code_points(*chars);
  auto cps = code_points(s);
  auto in_set = [&](std::string_view cp) { return std::find(set.begin(), set.end(), cp) != set.end(); };
  std::size_t b = 0;
  std::size_t e = cps.size();
  if (left)
    while (b < e && in_set(cps[b])) ++b;
  if (right)
    while (e > b && in_set(cps[e - 1])) --e;
  std::string out;
  for (std::size_t i = b; i < e; ++i) out += cps[i];
  return out;
}

std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep, std::int64_t maxsplit) {
  std::vector<std::string> parts;
  if (sep) {
    if (sep->empty()) fail("empty separator");
    std::size_t start = 0;
    for (;;) {
      std::size_t hit = (maxsplit < 0 || static_cast<std::int64_t>(parts.size()) < maxsplit) ? s.find(*sep, start) : std::string_view::npos;
      if (hit == std::string_view::npos) break;
      parts.emplace_back(s.substr(start, hit - start));
      start = hit + sep->size();
    }
    parts.emplace_back(s.substr(start));
    return parts;
  }
  std::size_t i = 0;
  std::size_t len = 0;
  while (i < s.size()) {
    while (i < s.size() && is_python_space(s, i, &len)) i += len;
    if (i >= s.size()) break;
    if (maxsplit >= 0 && static_cast<std::int64_t>(parts.size()) >= maxsplit) {
      parts.push_back(py_strip(s.substr(i), std::nullopt, false, true));
      break;
    }
    std::size_t start = i;
    while (i < s.size() && !is_python_space(s, i, &len)) ++i;
    parts.emplace_back(s.substr(start, i - start));
  }
  return parts;
}

std::vector<std::string> py_rsplit(std::string_view s, const std::optional<std::string>& sep, std::int64_t maxsplit) {
  if (maxsplit < 0 || !sep) return py_split(s, sep, maxsplit);
  if (sep->empty()) fail("empty separator");
  std::vector<std::string> parts;
  std::size_t end = s.size();
  while (static_cast<std::int64_t>(parts.size()) < maxsplit) {
    if (end < sep->size()) break;
    std::size_t hit = s.rfind(*sep, end - sep->size());
    if (hit == std::string_view::npos) break;
    parts.emplace_back(s.substr(hit + sep->size(), end - hit - sep->size()));
    end = hit;
  }
  parts.emplace_back(s.substr(0, end));
  return {parts.rbegin(), parts.rend()};
}

std::string py_replace(Interpreter& in, std::string_view s, std::string_view from, std::string_view to, std::int64_t count) {
  std::string out;
  std::size_t start = 0;
  std::int64_t done = 0;
  if (from.empty()) {
    // Python inserts `to` between every code point and at both ends.
    auto cps = code_points(s);
    for (std::size_t i = 0; i <= cps.size(); ++i) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      if (i < cps.size()) out += cps[i];
      in.check_size(out.size());
    }
    return out;
  }
  while (count < 0 || done < count) {
    std::size_t hit = s.find(from, start);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(start, hit - start));
    out.append(to);
    in.check_size(out.size());
    start = hit + from.size();
    ++done;
  }
  out.append(s.substr(start));
  in.check_size(out.size());
  return out;
}

std::string py_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_upper(c);
  return out;
}

std::string py_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

std::string py_title(std::string_view s) {
  std::string out(s);
  bool previous_cased = false;
  for (char& c : out) {
    const bool cased = ascii_upper(c) || ascii_lower(c);
    if (cased) c = previous_cased ? to_lower(c) : to_upper(c);
    previous_cased = cased;
  }
  return out;
}

std::string py_capitalize(std::string_view s) {
  std::string out = py_lower(s);
  if (!out.empty()) out[0] = to_upper(out[0]);
  return out;
}

std::string percent_format(Interpreter& in, const std::string& format, const Value& args) {
  std::vector<Value> positional;
  const DictObj* mapping = nullptr;
  if (args.is_list() && args.list->is_tuple) positional = args.list->items;
  else if (args.is_dict()) mapping = args.dict;
  else positional.push_back(args);
  std::size_t next = 0;
  std::string out;
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    if (++i >= format.size()) fail("incomplete format");
    if (format[i] == '%') {
      out += '%';
      continue;
    }
    const Value* arg = nullptr;
    if (format[i] == '(') {
      std::size_t close = format.find(')', i);
      if (close == std::string::npos || !mapping) fail("format requires a mapping");
      arg = mapping->find(std::string_view(format).substr(i + 1, close - i - 1));
      if (!arg) fail("KeyError: '{}'", format.substr(i + 1, close - i - 1));
      i = close + 1;
    }
    std::string flags;
    while (i < format.size() && std::string_view("-+ #0").find(format[i]) != std::string_view::npos) flags += format[i++];
    std::size_t width = 0;
    while (i < format.size() && format[i] >= '0' && format[i] <= '9') width = width * 10 + static_cast<std::size_t>(format[i++] - '0');
    int precision = -1;
    if (i < format.size() && format[i] == '.') {
      precision = 0;
      ++i;
      while (i < format.size() && format[i] >= '0' && format[i] <= '9') precision = precision * 10 + (format[i++] - '0');
    }
    if (width > 4096 || precision > 4096 || flags.size() > 5) fail("format width or precision too large");
    if (i >= format.size()) fail("incomplete format");
    const char type = format[i];
    if (!arg) {
      if (next >= positional.size()) fail("not enough arguments for format string");
      arg = &positional[next++];
    }
    const std::string spec = "%" + flags + (width ? std::to_string(width) : "") + (precision >= 0 ? "." + std::to_string(precision) : "");
    std::string piece;
    switch (type) {
      case 's':
      case 'r': {
        piece = type == 's' ? to_display(*arg) : to_repr(*arg);
        if (precision >= 0 && static_cast<std::size_t>(precision) < piece.size()) piece.resize(static_cast<std::size_t>(precision));
        if (piece.size() < width) {
          std::string pad(width - piece.size(), ' ');
          piece = flags.find('-') != std::string::npos ? piece + pad : pad + piece;
        }
        break;
      }
      case 'd':
      case 'i':
      case 'u': {
        if (!arg->is_number()) fail("%{} format: a real number is required, not {}", type, type_name(*arg));
        char buf[4200];
        if (arg->kind == Kind::Float && (!std::isfinite(arg->number) || std::fabs(arg->number) > 9.0e18))
          fail("%{} format: {} is out of range", type, arg->number);
        const long long v = arg->kind == Kind::Float ? static_cast<long long>(arg->number) : arg->as_int();
        std::snprintf(buf, sizeof buf, (spec + "lld").c_str(), v);
        piece = buf;
        break;
      }
      case 'x':
      case 'X':
      case 'o': {
        if (!arg->is_integral()) fail("%{} format: an integer is required, not {}", type, type_name(*arg));
        char buf[4200];
        std::snprintf(buf, sizeof buf, (spec + "ll" + type).c_str(), static_cast<long long>(arg->as_int()));
        piece = buf;
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G':
        if (!arg->is_number()) fail("must be real number, not {}", type_name(*arg));
        piece = format_number((spec + type).c_str(), arg->as_double());
        break;
      default: fail("unsupported format character '{}'", type);
    }
    out += piece;
    in.check_size(out.size());
  }
  if (!mapping && next < positional.size()) fail("not all arguments converted during string formatting");
  return out;
}

std::string brace_format(Interpreter& in, const std::string& format, const CallArgs& args) {
  std::string out;
  std::size_t auto_index = 0;
  for (std::size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}') ++i;
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    std::size_t close = format.find('}', i);
    if (close == std::string::npos) fail("Single '{{' encountered in format string");
    std::string field = format.substr(i + 1, close - i - 1);
    std::string spec;
    if (auto colon = field.find(':'); colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field.resize(colon);
    }
    const Value* arg = nullptr;
    if (field.empty() || std::isdigit(static_cast<unsigned char>(field[0]))) {
      std::size_t index = field.empty() ? auto_index++ : static_cast<std::size_t>(std::stoul(field.substr(0, 6)));
      if (index >= args.positional.size()) fail("Replacement index {} out of range for positional args tuple", index);
      arg = &args.positional[index];
    } else {
      for (const auto& [k, v] : args.keyword)
        if (k == field) arg = &v;
      if (!arg) fail("KeyError: '{}'", field);
    }
    std::size_t number = 0;
    for (char ch : spec) {
      number = std::isdigit(static_cast<unsigned char>(ch)) ? number * 10 + static_cast<std::size_t>(ch - '0') : 0;
      if (number > 4096) fail("format width or precision too large in '{}'", spec);
    }
    if (spec.empty()) {
      out += to_display(*arg);
    } else {
      try {
        if (arg->is_integral()) out += fmt::format(fmt::runtime("{:" + spec + "}"), arg->as_int());
        else if (arg->kind == Kind::Float) out += fmt::format(fmt::runtime("{:" + spec + "}"), arg->number);
        else out += fmt::format(fmt::runtime("{:" + spec + "}"), to_display(*arg));
      } catch (const fmt::format_error& e) {
        fail("invalid format specifier '{}': {}", spec, e.what());
      }
    }
    in.check_size(out.size());
    i = close;
  }
  return out;
}

}  // namespace autarky::jinja

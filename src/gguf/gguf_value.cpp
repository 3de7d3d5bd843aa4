#include "gguf/gguf_value.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <limits>

namespace autarky {

std::string_view gguf_type_name(GgufType type) {
  static constexpr std::array<std::string_view, kGgufTypeCount> kNames = {
      "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"};
  auto i = static_cast<std::uint32_t>(type);
  return i < kNames.size() ? kNames[i] : "?";
}

bool GgufValue::is_integer() const {
  switch (type()) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::UINT16: case GgufType::INT16:
    case GgufType::UINT32: case GgufType::INT32: case GgufType::UINT64: case GgufType::INT64:
      return true;
    default:
      return false;
  }
}

bool GgufValue::is_number() const {
  return is_integer() || type() == GgufType::FLOAT32 || type() == GgufType::FLOAT64;
}

std::optional<std::int64_t> GgufValue::as_int() const {
  return std::visit(
      [](const auto& x) -> std::optional<std::int64_t> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::uint64_t>) {
          if (x > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
          return static_cast<std::int64_t>(x);
        } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          return static_cast<std::int64_t>(x);
        } else {
          return std::nullopt;
        }
      },
      v);
}

std::optional<std::uint64_t> GgufValue::as_uint() const {
  if (type() == GgufType::UINT64) return std::get<std::uint64_t>(v);
  auto i = as_int();
  if (!i || *i < 0) return std::nullopt;
  return static_cast<std::uint64_t>(*i);
}

std::optional<double> GgufValue::as_double() const {
  if (type() == GgufType::FLOAT32) return std::get<float>(v);
  if (type() == GgufType::FLOAT64) return std::get<double>(v);
  if (type() == GgufType::UINT64) return static_cast<double>(std::get<std::uint64_t>(v));
  if (auto i = as_int()) return static_cast<double>(*i);
  return std::nullopt;
}

namespace {

std::string quote(std::string_view s, std::size_t max_chars) {
  std::string out = "\"";
  std::size_t n = 0;
  for (char c : s) {
    if (n++ >= max_chars) {
      out += "...";
      break;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        else out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string GgufValue::to_display(std::size_t max_items) const {
  return std::visit(
      [&](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return quote(x, 120);
        } else if constexpr (std::is_same_v<T, GgufArray>) {
          std::string out = fmt::format("[{}; {}] [", gguf_type_name(x.elem_type), x.items.size());
          for (std::size_t i = 0; i < x.items.size() && i < max_items; ++i) {
            if (i) out += ", ";
            out += x.items[i].to_display(max_items);
          }
          if (x.items.size() > max_items) out += ", ...";
          return out + "]";
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_floating_point_v<T>) {
          return fmt::format("{}", x);
        } else {
          return fmt::format("{}", +x);  // unary + prints 8-bit ints as numbers
        }
      },
      v);
}

}  // namespace autarky

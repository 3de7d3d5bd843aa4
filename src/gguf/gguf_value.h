#pragma once
// GGUF metadata values: every scalar type, strings, and arrays (which may nest).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace autarky {

// Numbered as in the GGUF specification.
enum class GgufType : std::uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};
constexpr std::uint32_t kGgufTypeCount = 13;

std::string_view gguf_type_name(GgufType type);

struct GgufValue;

struct GgufArray {
  GgufType elem_type = GgufType::UINT8;
  std::vector<GgufValue> items;
  friend bool operator==(const GgufArray&, const GgufArray&) = default;
};

struct GgufValue {
  // The alternatives are in GgufType order, so index() == the GGUF type id.
  using Storage = std::variant<std::uint8_t, std::int8_t, std::uint16_t, std::int16_t, std::uint32_t, std::int32_t,
                               float, bool, std::string, GgufArray, std::uint64_t, std::int64_t, double>;
  Storage v;

  GgufValue() = default;
  template <typename T>
  GgufValue(T x) : v(std::move(x)) {}  // NOLINT(google-explicit-constructor): values are plain data

  GgufType type() const { return static_cast<GgufType>(v.index()); }
  bool is_integer() const;
  bool is_number() const;  // integer or floating point

  // Numeric reads accept any numeric type whose value fits; nullopt otherwise.
  std::optional<std::int64_t> as_int() const;
  std::optional<std::uint64_t> as_uint() const;
  std::optional<double> as_double() const;
  const std::string* as_string() const { return std::get_if<std::string>(&v); }
  const GgufArray* as_array() const { return std::get_if<GgufArray>(&v); }

  // Short human-readable rendering for `inspect` (long arrays are elided).
  std::string to_display(std::size_t max_items = 8) const;

  // Same type and same value (so a u32 1 differs from an i32 1; NaN differs from itself).
  friend bool operator==(const GgufValue&, const GgufValue&) = default;
};

}  // namespace autarky

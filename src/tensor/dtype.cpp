#include "tensor/dtype.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "base/error.h"

namespace autarky {
namespace {

// Sizes of the block structs as stored in GGUF files. Types we cannot compute with are still
// listed so that files holding them can be inspected and validated.
constexpr std::array kLayouts = {
    DTypeLayout{DType::F32, "F32", 1, 4},
    DTypeLayout{DType::F16, "F16", 1, 2},
    DTypeLayout{DType::Q4_0, "Q4_0", 32, 2 + 16},
    DTypeLayout{DType::Q4_1, "Q4_1", 32, 2 + 2 + 16},
    DTypeLayout{DType::Q5_0, "Q5_0", 32, 2 + 4 + 16},
    DTypeLayout{DType::Q5_1, "Q5_1", 32, 2 + 2 + 4 + 16},
    DTypeLayout{DType::Q8_0, "Q8_0", 32, 2 + 32},
    DTypeLayout{DType::Q8_1, "Q8_1", 32, 2 + 2 + 32},
    DTypeLayout{DType::Q2_K, "Q2_K", 256, 16 + 64 + 2 + 2},
    DTypeLayout{DType::Q3_K, "Q3_K", 256, 32 + 64 + 12 + 2},
    DTypeLayout{DType::Q4_K, "Q4_K", 256, 2 + 2 + 12 + 128},
    DTypeLayout{DType::Q5_K, "Q5_K", 256, 2 + 2 + 12 + 32 + 128},
    DTypeLayout{DType::Q6_K, "Q6_K", 256, 128 + 64 + 16 + 2},
    DTypeLayout{DType::Q8_K, "Q8_K", 256, 4 + 256 + 32},
    DTypeLayout{DType::IQ2_XXS, "IQ2_XXS", 256, 66},
    DTypeLayout{DType::IQ2_XS, "IQ2_XS", 256, 74},
    DTypeLayout{DType::IQ3_XXS, "IQ3_XXS", 256, 98},
    DTypeLayout{DType::IQ1_S, "IQ1_S", 256, 50},
    DTypeLayout{DType::IQ4_NL, "IQ4_NL", 32, 18},
    DTypeLayout{DType::IQ3_S, "IQ3_S", 256, 110},
    DTypeLayout{DType::IQ2_S, "IQ2_S", 256, 82},
    DTypeLayout{DType::IQ4_XS, "IQ4_XS", 256, 136},
    DTypeLayout{DType::I8, "I8", 1, 1},
    DTypeLayout{DType::I16, "I16", 1, 2},
    DTypeLayout{DType::I32, "I32", 1, 4},
    DTypeLayout{DType::I64, "I64", 1, 8},
    DTypeLayout{DType::F64, "F64", 1, 8},
    DTypeLayout{DType::IQ1_M, "IQ1_M", 256, 56},
    DTypeLayout{DType::BF16, "BF16", 1, 2},
    DTypeLayout{DType::TQ1_0, "TQ1_0", 256, 54},
    DTypeLayout{DType::TQ2_0, "TQ2_0", 256, 66},
    DTypeLayout{DType::MXFP4, "MXFP4", 32, 17},
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

const DTypeLayout* find_layout(std::uint32_t raw_type) {
  for (const auto& l : kLayouts) {
    if (static_cast<std::uint32_t>(l.type) == raw_type) return &l;
  }
  return nullptr;
}

const DTypeLayout& layout(DType type) {
  const DTypeLayout* l = find_layout(static_cast<std::uint32_t>(type));
  AUTARKY_ASSERT(l != nullptr, "DType {} has no layout", static_cast<std::uint32_t>(type));
  return *l;
}

std::string_view dtype_name(DType type) { return layout(type).name; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& l : kLayouts) {
    if (iequals(l.name, name)) return l.type;
  }
  return std::nullopt;
}

std::uint64_t row_bytes(DType type, std::int64_t n) {
  const DTypeLayout& l = layout(type);
  AUTARKY_ASSERT(n % l.block_size == 0, "row of {} elements is not a whole number of {} blocks", n, l.name);
  return static_cast<std::uint64_t>(n / l.block_size) * l.block_bytes;
}

}  // namespace autarky

#pragma once
// Tensor element types, numbered exactly as GGUF/ggml number them (the id is stored in files).

#include <cstdint>
#include <optional>
#include <string_view>

namespace autarky {

enum class DType : std::uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
};

// Block layout of a type: every row of a tensor is a whole number of blocks.
struct DTypeLayout {
  DType type;
  std::string_view name;    // as llama.cpp prints it: "Q4_K", "F16"
  std::int64_t block_size;  // elements per block
  std::uint64_t block_bytes;
};

// Layout of a raw type id read from a file, or nullptr if the id is not a known type.
const DTypeLayout* find_layout(std::uint32_t raw_type);
const DTypeLayout& layout(DType type);
std::string_view dtype_name(DType type);
std::optional<DType> dtype_from_name(std::string_view name);  // case-insensitive

// Bytes of a row of n elements; n must be a multiple of the block size.
std::uint64_t row_bytes(DType type, std::int64_t n);

}  // namespace autarky

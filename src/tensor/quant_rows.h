#pragma once
// Per-type row conversions behind the trait table (type_traits.cpp). n is the number of
// weights, a multiple of the type's block size; src/dst hold n / block_size blocks.
// Callers outside src/tensor/ go through type_traits() or convert.h instead.

#include <cstdint>

namespace autarky::rows {

#define AUTARKY_DECLARE_ROW_CONVERSIONS(name)                        \
  void name##_to_float(const void* src, float* dst, std::int64_t n); \
  void name##_from_float(const float* src, void* dst, std::int64_t n)

AUTARKY_DECLARE_ROW_CONVERSIONS(f32);
AUTARKY_DECLARE_ROW_CONVERSIONS(f16);
AUTARKY_DECLARE_ROW_CONVERSIONS(bf16);
AUTARKY_DECLARE_ROW_CONVERSIONS(q4_0);
AUTARKY_DECLARE_ROW_CONVERSIONS(q4_1);
AUTARKY_DECLARE_ROW_CONVERSIONS(q5_0);
AUTARKY_DECLARE_ROW_CONVERSIONS(q5_1);
AUTARKY_DECLARE_ROW_CONVERSIONS(q8_0);
AUTARKY_DECLARE_ROW_CONVERSIONS(q8_1);
AUTARKY_DECLARE_ROW_CONVERSIONS(q2_k);
AUTARKY_DECLARE_ROW_CONVERSIONS(q3_k);
AUTARKY_DECLARE_ROW_CONVERSIONS(q4_k);
AUTARKY_DECLARE_ROW_CONVERSIONS(q5_k);
AUTARKY_DECLARE_ROW_CONVERSIONS(q6_k);
AUTARKY_DECLARE_ROW_CONVERSIONS(q8_k);

#undef AUTARKY_DECLARE_ROW_CONVERSIONS

// Plain max-abs Q8_0 without the scale search: for activations, quantized on every matmul.
void q8_0_from_float_fast(const float* src, void* dst, std::int64_t n);

}  // namespace autarky::rows

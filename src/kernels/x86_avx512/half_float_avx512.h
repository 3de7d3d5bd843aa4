#pragma once
// AVX-512 kernels for float weights (F32, F16, BF16); MatmulRowsFn signatures (kernels/matmul.h).
// Declarations only: this header is also read by baseline code.

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace autarky::avx512 {

// BF16 weights widened to F32 x F32 activations (plain AVX-512F).
void bf16_f32(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
              float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
// BF16 weights x BF16 activations (AVX512_BF16 vdpbf16ps); x rows of n_in BF16 values, which
// bf16_from_float makes (the bytes of type_traits(BF16).from_float).
void bf16_bf16(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void bf16_from_float(const float* x, void* out, std::int64_t n);
// F32 weights x F32 activations.
void f32_f32(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens, float* y,
             std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
// F16 weights x F32 activations.
void f16_f32(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens, float* y,
             std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);

// The same products for many tokens (bit-identical results), through transposed F32 panels of the
// weights; the two functions above call them for prompts.
void bf16_f32_prompt(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                     float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void bf16_bf16_prompt(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void f16_f32_prompt(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);

}  // namespace autarky::avx512

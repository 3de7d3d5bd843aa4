#pragma once
// AVX-512 (VNNI) kernels for the 32-weight block types (Q8_0, Q4_0, Q5_0 against Q8_0
// activations; Q4_1, Q5_1 against Q8_1); MatmulRowsFn signatures (kernels/matmul.h), 16-row panels (row_multiple 16).
// Declarations only: this header is also read by baseline code.

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace autarky::avx512 {

void q8_0_q8_0_panels(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q4_0_q8_0_panels(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q4_1_q8_1_panels(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q5_0_q8_0_panels(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q5_1_q8_1_panels(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);

// The 4- and 5-bit types on weights repacked at load time into 16-row panels (MatmulKernel::pack /
// packed_rows; the layout is StoredPanels in legacy_panel_pack.h). Results are bit for bit those
// of the *_panels functions on the original rows.
#define AUTARKY_DECLARE_STORED_PANELS(name, act)                                                                      \
  void name##_##act##_stored(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes,                   \
                          std::int64_t n_tokens, float* y, std::int64_t y_stride, std::int64_t row_begin,             \
                          std::int64_t row_end);                                                                     \
  void name##_pack_panels(const WeightMatrix& w, std::uint8_t* out, std::int64_t row_begin, std::int64_t row_end);
AUTARKY_DECLARE_STORED_PANELS(q4_0, q8_0)
AUTARKY_DECLARE_STORED_PANELS(q4_1, q8_1)
AUTARKY_DECLARE_STORED_PANELS(q5_0, q8_0)
AUTARKY_DECLARE_STORED_PANELS(q5_1, q8_1)
#undef AUTARKY_DECLARE_STORED_PANELS

}  // namespace autarky::avx512

namespace autarky::avx512 {

// Q8_0 / Q8_1 activations: byte for byte what type_traits(Q8_0).from_float_fast /
// type_traits(Q8_1).from_float write, faster.
void q8_0_from_float(const float* src, void* dst, std::int64_t n);
void q8_1_from_float(const float* src, void* dst, std::int64_t n);

}  // namespace autarky::avx512

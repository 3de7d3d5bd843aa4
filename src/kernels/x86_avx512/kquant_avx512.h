#pragma once
// AVX-512 (VNNI) kernels for K-quant weights against Q8_K activations; MatmulRowsFn signatures
// (kernels/matmul.h). Declarations only: this header is also read by baseline code.

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace autarky::avx512 {

// The table's kernels: the row-interleaved micro-kernel (kquant_gemm_avx512.cpp) for prompts,
// the one-row-at-a-time path below for few tokens. Row shares should be multiples of 16.
void q2_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q3_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q4_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q5_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q6_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);

// The activation conversion of these kernels: the trait table's Q8_K quantization, vectorized.
void q8_k_from_float(const float* src, void* dst, std::int64_t n);

// One weight row at a time, tokens in groups of four: for decode (few tokens).
void q2_k_q8_k_gemv(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q3_k_q8_k_gemv(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q4_k_q8_k_gemv(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q5_k_q8_k_gemv(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q6_k_q8_k_gemv(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);

// The same on weights repacked at load time into 16-row panels (MatmulKernel::pack / packed_rows;
// layouts in kquant_panels_avx512.cpp and kquant_panels_q23_avx512.cpp). Results are bit for bit
// those of the kernels above on the file's rows.
void q2_k_q8_k_stored(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q2_k_pack_panels(const WeightMatrix& w, std::uint8_t* out, std::int64_t row_begin, std::int64_t row_end);
void q3_k_q8_k_stored(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q3_k_pack_panels(const WeightMatrix& w, std::uint8_t* out, std::int64_t row_begin, std::int64_t row_end);
void q4_k_q8_k_stored(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q4_k_pack_panels(const WeightMatrix& w, std::uint8_t* out, std::int64_t row_begin, std::int64_t row_end);
void q5_k_q8_k_stored(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q5_k_pack_panels(const WeightMatrix& w, std::uint8_t* out, std::int64_t row_begin, std::int64_t row_end);
void q6_k_q8_k_stored(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q6_k_pack_panels(const WeightMatrix& w, std::uint8_t* out, std::int64_t row_begin, std::int64_t row_end);

}  // namespace autarky::avx512

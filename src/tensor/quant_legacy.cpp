// The legacy 32-weight block types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
//
// Quantization fits each block on its own with the weighted scale search of quant_search.h,
// rounds the scale (and offset) to fp16 as stored, and only then picks the final codes so the
// codes fit the scale the file really holds.

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/quant_rows.h"
#include "tensor/quant_search.h"

namespace autarky::rows {
namespace {

using quant::round_clamped;

constexpr float kMaxFp16 = 65504.0f;

// fp16 value as stored, saturated so huge blocks clamp instead of becoming Inf/NaN.
std::uint16_t store_fp16(float v) { return float_to_fp16(std::clamp(v, -kMaxFp16, kMaxFp16)); }

// Symmetric block: codes q in [qmin, qmax], stored as q - qmin.
template <int kQmin, int kQmax>
float quantize_symmetric_block(const float* x, int* codes, std::uint16_t& d_out) {
  float w[kQK];
  quant::default_importance(kQK, x, w);
  const float d = quant::fit_scale(kQK, x, w, kQmin, kQmax, codes);
  d_out = store_fp16(d);
  const float stored = fp16_to_float(d_out);
  const float inv = stored != 0 ? 1.0f / stored : 0.0f;
  for (int i = 0; i < kQK; ++i) codes[i] = round_clamped(x[i] * inv, kQmin, kQmax) - kQmin;
  return stored;
}

// Affine block: x ~= d * q + m with q in [0, qmax].
template <int kQmax>
void quantize_affine_block(const float* x, int* codes, std::uint16_t& d_out, std::uint16_t& m_out) {
  float w[kQK];
  quant::default_importance(kQK, x, w);
  float d, m;
  quant::fit_scale_offset(kQK, x, w, kQmax, /*offset_nonpositive=*/false, codes, d, m);
  d_out = store_fp16(d);
  m_out = store_fp16(m);
  const float ds = fp16_to_float(d_out), ms = fp16_to_float(m_out);
  const float inv = ds > 0 ? 1.0f / ds : 0.0f;
  for (int i = 0; i < kQK; ++i) codes[i] = round_clamped((x[i] - ms) * inv, 0, kQmax);
}

// Low nibbles hold weights 0..15, high nibbles weights 16..31.
void pack_nibbles(const int* codes, std::uint8_t* qs) {
  for (int j = 0; j < kQK / 2; ++j) qs[j] = static_cast<std::uint8_t>((codes[j] & 0xf) | ((codes[j + 16] & 0xf) << 4));
}
void pack_fifth_bits(const int* codes, std::uint8_t* qh) {
  std::uint32_t bits = 0;
  for (int j = 0; j < kQK; ++j) bits |= static_cast<std::uint32_t>((codes[j] >> 4) & 1) << j;
  for (int b = 0; b < 4; ++b) qh[b] = static_cast<std::uint8_t>(bits >> (8 * b));
}
// Codes (0..15 or 0..31) of one block, in weight order.
void unpack_codes(const std::uint8_t* qs, const std::uint8_t* qh, int* codes) {
  std::uint32_t bits = 0;
  if (qh) bits = qh[0] | (qh[1] << 8) | (qh[2] << 16) | (static_cast<std::uint32_t>(qh[3]) << 24);
  for (int j = 0; j < kQK / 2; ++j) {
    codes[j] = (qs[j] & 0xf) | static_cast<int>(((bits >> j) & 1) << 4);
    codes[j + 16] = (qs[j] >> 4) | static_cast<int>(((bits >> (j + 16)) & 1) << 4);
  }
}

}  // namespace

void q4_0_to_float(const void* src, float* dst, std::int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_0*>(src);
  int codes[kQK];
  for (std::int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const float d = fp16_to_float(blocks[b].d);
    unpack_codes(blocks[b].qs, nullptr, codes);
    for (int i = 0; i < kQK; ++i) dst[i] = static_cast<float>(codes[i] - 8) * d;
  }
}
void q4_0_from_float(const float* src, void* dst, std::int64_t n) {
  auto* blocks = static_cast<BlockQ4_0*>(dst);
  int codes[kQK];
  for (std::int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    quantize_symmetric_block<-8, 7>(src, codes, blocks[b].d);
    pack_nibbles(codes, blocks[b].qs);
  }
}

void q4_1_to_float(const void* src, float* dst, std::int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_1*>(src);
  int codes[kQK];
  for (std::int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const float d = fp16_to_float(blocks[b].d), m = fp16_to_float(blocks[b].m);
    unpack_codes(blocks[b].qs, nullptr, codes);
    for (int i = 0; i < kQK; ++i) dst[i] = static_cast<float>(codes[i]) * d + m;
  }
}
void q4_1_from_float(const float* src, void* dst, std::int64_t n) {
  auto* blocks = static_cast<BlockQ4_1*>(dst);
  int codes[kQK];
  for (std::int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    quantize_affine_block<15>(src, codes, blocks[b].d, blocks[b].m);
    pack_nibbles(codes, blocks[b].qs);
  }
}

void q5_0_to_float(const void* src, float* dst, std::int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_0*>(src);
  int codes[kQK];
  for (std::int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const float d = fp16_to_float(blocks[b].d);
    unpack_codes(blocks[b].qs, blocks[b].qh, codes);
    for (int i = 0; i < kQK; ++i) dst[i] = static_cast<float>(codes[i] - 16) * d;
  }
}
void q5_0_from_float(const float* src, void* dst, std::int64_t n) {
  auto* blocks = static_cast<BlockQ5_0*>(dst);
  int codes[kQK];
  for (std::int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    quantize_symmetric_block<-16, 15>(src, codes, blocks[b].d);
    pack_nibbles(codes, blocks[b].qs);
    pack_fifth_bits(codes, blocks[b].qh);
  }
}

void q5_1_to_float(const void* src, float* dst, std::int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_1*>(src);
  int codes[kQK];
  for (std::int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const float d = fp16_to_float(blocks[b].d), m = fp16_to_float(blocks[b].m);
    unpack_codes(blocks[b].qs, blocks[b].qh, codes);
    for (int i = 0; i < kQK; ++i) dst[i] = static_cast<float>(codes[i]) * d + m;
  }
}
void q5_1_from_float(const float* src, void* dst, std::int64_t n) {
  auto* blocks = static_cast<BlockQ5_1*>(dst);
  int codes[kQK];
  for (std::int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    quantize_affine_block<31>(src, codes, blocks[b].d, blocks[b].m);
    pack_nibbles(codes, blocks[b].qs);
    pack_fifth_bits(codes, blocks[b].qh);
  }
}

void q8_0_to_float(const void* src, float* dst, std::int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_0*>(src);
  for (std::int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const float d = fp16_to_float(blocks[b].d);
    for (int i = 0; i < kQK; ++i) dst[i] = static_cast<float>(blocks[b].qs[i]) * d;
  }
}
void q8_0_from_float(const float* src, void* dst, std::int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(dst);
  int codes[kQK];
  for (std::int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    quantize_symmetric_block<-127, 127>(src, codes, blocks[b].d);
    for (int i = 0; i < kQK; ++i) blocks[b].qs[i] = static_cast<std::int8_t>(codes[i] - 127);
  }
}

}  // namespace autarky::rows

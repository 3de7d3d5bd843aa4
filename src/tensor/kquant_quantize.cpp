// Quantization to the K-quant super-block types (Q2_K..Q6_K) and to Q8_K.
//
// Every super-block goes through the same three steps:
//   1. fit each sub-block on its own (scale, and for the affine types an offset <= 0) with the
//      weighted search of quant_search.h, importance sigma^2 + x^2 over the super-block;
//   2. quantize the sub-block scales (and mins) against one fp16 super-scale with the same
//      search, weighting each scale by how much weighted error a change of it causes;
//   3. round the super-scales to fp16 as stored and choose the final codes against the scales
//      the file will really hold, so rounding of the scales is not compounded.

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/quant_rows.h"
#include "tensor/quant_search.h"

namespace autarky::rows {
namespace {

using quant::round_clamped;

constexpr float kMaxFp16 = 65504.0f;
std::uint16_t store_fp16(float v) { return float_to_fp16(std::clamp(v, -kMaxFp16, kMaxFp16)); }

// Integer codes of `values` against one stored fp16 super-scale: returns the stored fp16 and
// writes codes in [qmin, qmax].
std::uint16_t quantize_scales(int n, const float* values, const float* importance, int qmin, int qmax, int* codes) {
  const std::uint16_t stored = store_fp16(quant::fit_scale(n, values, importance, qmin, qmax, codes));
  const float d = fp16_to_float(stored);
  const float inv = d != 0 ? 1.0f / d : 0.0f;
  for (int j = 0; j < n; ++j) codes[j] = round_clamped(values[j] * inv, qmin, qmax);
  return stored;
}

// Step 4: with every code fixed, the two super-scales enter linearly, so a weighted least
// squares over the whole super-block can correct what quantizing the sub-block scales lost.
// Kept only if the error after re-rounding the codes (to the fp16 result) really drops.
template <int kSub, int kQmax>
void refit_super_scales(const float* x, const float* w, const int* sc, const int* mn, int* q, std::uint16_t& d_out,
                        std::uint16_t& dmin_out) {
  auto error_of = [&](float d, float dmin, const int* codes) {
    double err = 0;
    for (int i = 0; i < kQK_K; ++i) {
      const double diff = d * sc[i / kSub] * codes[i] - dmin * mn[i / kSub] - x[i];
      err += w[i] * diff * diff;
    }
    return err;
  };
  double saa = 0, sab = 0, sbb = 0, sax = 0, sbx = 0;  // A_i = sc * q, B_i = -mn
  for (int i = 0; i < kQK_K; ++i) {
    const double a = static_cast<double>(sc[i / kSub]) * q[i], b = -static_cast<double>(mn[i / kSub]);
    saa += w[i] * a * a, sab += w[i] * a * b, sbb += w[i] * b * b, sax += w[i] * a * x[i], sbx += w[i] * b * x[i];
  }
  const double det = saa * sbb - sab * sab;
  if (!(det > 0)) return;
  const std::uint16_t d_new = store_fp16(static_cast<float>((sax * sbb - sab * sbx) / det));
  const std::uint16_t dmin_new = store_fp16(static_cast<float>((saa * sbx - sab * sax) / det));
  const float d = fp16_to_float(d_new), dmin = fp16_to_float(dmin_new);
  if (!(d > 0) || dmin < 0) return;
  int candidate[kQK_K];
  for (int j = 0; j < kQK_K / kSub; ++j) {
    const float scale = d * static_cast<float>(sc[j]), offset = dmin * static_cast<float>(mn[j]);
    const float inv = scale > 0 ? 1.0f / scale : 0.0f;
    for (int i = kSub * j; i < kSub * (j + 1); ++i) candidate[i] = round_clamped((x[i] + offset) * inv, 0, kQmax);
  }
  if (error_of(d, dmin, candidate) < error_of(fp16_to_float(d_out), fp16_to_float(dmin_out), q)) {
    d_out = d_new, dmin_out = dmin_new;
    std::copy(candidate, candidate + kQK_K, q);
  }
}

// Steps 1-3 for the affine types (Q2_K, Q4_K, Q5_K): x ~= d * sc_j * q - dmin * mn_j.
// Writes codes q in [0, kQmax] for all 256 weights and the sub-block scale/min codes.
template <int kSub, int kQmax, int kScaleMax>
void quantize_affine_superblock(const float* x, int* q, int* sc, int* mn, std::uint16_t& d_out,
                                std::uint16_t& dmin_out) {
  constexpr int kNumSub = kQK_K / kSub;
  float w[kQK_K];
  quant::default_importance(kQK_K, x, w);
  float scales[kNumSub], mins[kNumSub], scale_weight[kNumSub], min_weight[kNumSub];
  for (int j = 0; j < kNumSub; ++j) {
    const float* xs = x + kSub * j;
    const float* ws = w + kSub * j;
    float d, m;
    quant::fit_scale_offset(kSub, xs, ws, kQmax, /*offset_nonpositive=*/true, q + kSub * j, d, m);
    scales[j] = std::max(d, 0.0f);
    mins[j] = -m;
    double sw = 0, swll = 0;
    for (int i = 0; i < kSub; ++i) sw += ws[i], swll += static_cast<double>(ws[i]) * q[kSub * j + i] * q[kSub * j + i];
    scale_weight[j] = static_cast<float>(swll);
    min_weight[j] = static_cast<float>(sw);
  }
  d_out = quantize_scales(kNumSub, scales, scale_weight, 0, kScaleMax, sc);
  dmin_out = quantize_scales(kNumSub, mins, min_weight, 0, kScaleMax, mn);
  const float d = fp16_to_float(d_out), dmin = fp16_to_float(dmin_out);
  for (int j = 0; j < kNumSub; ++j) {
    const float scale = d * static_cast<float>(sc[j]), offset = dmin * static_cast<float>(mn[j]);
    const float inv = scale > 0 ? 1.0f / scale : 0.0f;
    for (int i = kSub * j; i < kSub * (j + 1); ++i) q[i] = round_clamped((x[i] + offset) * inv, 0, kQmax);
  }
  refit_super_scales<kSub, kQmax>(x, w, sc, mn, q, d_out, dmin_out);
}

// Steps 1-3 for the symmetric types (Q3_K, Q6_K): x ~= d * sc_j * q, 16 sub-blocks of 16.
template <int kQmin, int kQmax, int kScaleMin, int kScaleMax>
std::uint16_t quantize_symmetric_superblock(const float* x, int* q, int* sc) {
  constexpr int kSub = 16, kNumSub = kQK_K / kSub;
  float w[kQK_K];
  quant::default_importance(kQK_K, x, w);
  float scales[kNumSub], scale_weight[kNumSub];
  for (int j = 0; j < kNumSub; ++j) {
    scales[j] = quant::fit_scale(kSub, x + kSub * j, w + kSub * j, kQmin, kQmax, q + kSub * j);
    double swll = 0;
    for (int i = kSub * j; i < kSub * (j + 1); ++i) swll += static_cast<double>(w[i]) * q[i] * q[i];
    scale_weight[j] = static_cast<float>(swll);
  }
  const std::uint16_t d_out = quantize_scales(kNumSub, scales, scale_weight, kScaleMin, kScaleMax, sc);
  const float d = fp16_to_float(d_out);
  for (int j = 0; j < kNumSub; ++j) {
    const float scale = d * static_cast<float>(sc[j]);
    const float inv = scale != 0 ? 1.0f / scale : 0.0f;
    for (int i = kSub * j; i < kSub * (j + 1); ++i) q[i] = round_clamped(x[i] * inv, kQmin, kQmax);
  }
  return d_out;
}

// Inverse of unpack_scale_min_k4 (blocks.h).
void pack_scale_min_k4(const int* sc, const int* mn, std::uint8_t* packed) {
  for (int j = 0; j < 4; ++j) {
    packed[j] = static_cast<std::uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    packed[j + 4] = static_cast<std::uint8_t>((mn[j] & 63) | ((mn[j + 4] >> 4) << 6));
    packed[j + 8] = static_cast<std::uint8_t>((sc[j + 4] & 0xf) | ((mn[j + 4] & 0xf) << 4));
  }
}

// Low nibbles of K4/K5 codes: weights 64g..64g+31 low nibble, 64g+32..64g+63 high nibble.
void pack_k4_nibbles(const int* q, std::uint8_t* qs) {
  for (int g = 0; g < 4; ++g) {
    for (int l = 0; l < 32; ++l) {
      qs[32 * g + l] = static_cast<std::uint8_t>((q[64 * g + l] & 0xf) | ((q[64 * g + 32 + l] & 0xf) << 4));
    }
  }
}

}  // namespace

void q2_k_from_float(const float* src, void* dst, std::int64_t n) {
  auto* blocks = static_cast<BlockQ2_K*>(dst);
  int q[kQK_K], sc[16], mn[16];
  for (std::int64_t b = 0; b < n / kQK_K; ++b, src += kQK_K) {
    BlockQ2_K& blk = blocks[b];
    quantize_affine_superblock<16, 3, 15>(src, q, sc, mn, blk.d, blk.dmin);
    for (int j = 0; j < 16; ++j) blk.scales[j] = static_cast<std::uint8_t>(sc[j] | (mn[j] << 4));
    std::fill(std::begin(blk.qs), std::end(blk.qs), 0);
    for (int i = 0; i < kQK_K; ++i) {
      const int half = i / 128, s = (i % 128) / 32, l = i % 32;
      blk.qs[32 * half + l] |= static_cast<std::uint8_t>(q[i] << (2 * s));
    }
  }
}

void q3_k_from_float(const float* src, void* dst, std::int64_t n) {
  auto* blocks = static_cast<BlockQ3_K*>(dst);
  int q[kQK_K], sc[16];
  for (std::int64_t b = 0; b < n / kQK_K; ++b, src += kQK_K) {
    BlockQ3_K& blk = blocks[b];
    blk.d = quantize_symmetric_superblock<-4, 3, -32, 31>(src, q, sc);
    std::fill(std::begin(blk.scales), std::end(blk.scales), 0);
    for (int j = 0; j < 16; ++j) {
      const int biased = sc[j] + 32;
      blk.scales[j % 8] |= static_cast<std::uint8_t>((biased & 0xf) << (j < 8 ? 0 : 4));
      blk.scales[8 + j % 4] |= static_cast<std::uint8_t>((biased >> 4) << (2 * (j / 4)));
    }
    std::fill(std::begin(blk.qs), std::end(blk.qs), 0);
    std::fill(std::begin(blk.hmask), std::end(blk.hmask), 0);
    for (int i = 0; i < kQK_K; ++i) {
      const int half = i / 128, s = (i % 128) / 32, l = i % 32;
      const int biased = q[i] + 4;  // 0..7: bit 2 goes to hmask, the rest to qs
      blk.qs[32 * half + l] |= static_cast<std::uint8_t>((biased & 3) << (2 * s));
      blk.hmask[l] |= static_cast<std::uint8_t>((biased >> 2) << (4 * half + s));
    }
  }
}

void q4_k_from_float(const float* src, void* dst, std::int64_t n) {
  auto* blocks = static_cast<BlockQ4_K*>(dst);
  int q[kQK_K], sc[8], mn[8];
  for (std::int64_t b = 0; b < n / kQK_K; ++b, src += kQK_K) {
    BlockQ4_K& blk = blocks[b];
    quantize_affine_superblock<32, 15, 63>(src, q, sc, mn, blk.d, blk.dmin);
    pack_scale_min_k4(sc, mn, blk.scales);
    pack_k4_nibbles(q, blk.qs);
  }
}

void q5_k_from_float(const float* src, void* dst, std::int64_t n) {
  auto* blocks = static_cast<BlockQ5_K*>(dst);
  int q[kQK_K], sc[8], mn[8];
  for (std::int64_t b = 0; b < n / kQK_K; ++b, src += kQK_K) {
    BlockQ5_K& blk = blocks[b];
    quantize_affine_superblock<32, 31, 63>(src, q, sc, mn, blk.d, blk.dmin);
    pack_scale_min_k4(sc, mn, blk.scales);
    pack_k4_nibbles(q, blk.qs);
    std::fill(std::begin(blk.qh), std::end(blk.qh), 0);
    for (int i = 0; i < kQK_K; ++i) blk.qh[i % 32] |= static_cast<std::uint8_t>((q[i] >> 4) << (i / 32));
  }
}

void q6_k_from_float(const float* src, void* dst, std::int64_t n) {
  auto* blocks = static_cast<BlockQ6_K*>(dst);
  int q[kQK_K], sc[16];
  for (std::int64_t b = 0; b < n / kQK_K; ++b, src += kQK_K) {
    BlockQ6_K& blk = blocks[b];
    blk.d = quantize_symmetric_superblock<-32, 31, -128, 127>(src, q, sc);
    for (int j = 0; j < 16; ++j) blk.scales[j] = static_cast<std::int8_t>(sc[j]);
    std::fill(std::begin(blk.ql), std::end(blk.ql), 0);
    std::fill(std::begin(blk.qh), std::end(blk.qh), 0);
    for (int i = 0; i < kQK_K; ++i) {
      const int half = i / 128, s = (i % 128) / 32, l = i % 32;
      const int biased = q[i] + 32;  // 0..63
      blk.ql[64 * half + 32 * (s % 2) + l] |= static_cast<std::uint8_t>((biased & 0xf) << (4 * (s / 2)));
      blk.qh[32 * half + l] |= static_cast<std::uint8_t>((biased >> 4) << (2 * s));
    }
  }
}

}  // namespace autarky::rows

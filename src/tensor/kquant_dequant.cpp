// Dequantization of the K-quant super-block types (Q2_K..Q6_K).
// Bit layouts are documented on the structs in blocks.h.

#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/quant_rows.h"

namespace autarky::rows {

// The loops below walk the bit layout (halves of 128, then 2-bit planes, then 32 bytes) rather
// than computing each weight's position, which keeps the inner loop free of divisions.
void q2_k_to_float(const void* src, float* dst, std::int64_t n) {
  const auto* blocks = static_cast<const BlockQ2_K*>(src);
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ2_K& blk = blocks[b];
    const float d = fp16_to_float(blk.d), dmin = fp16_to_float(blk.dmin);
    for (int half = 0; half < 2; ++half) {
      const std::uint8_t* qs = blk.qs + 32 * half;
      for (int plane = 0; plane < 4; ++plane, dst += 32) {
        for (int part = 0; part < 2; ++part) {
          const std::uint8_t sc = blk.scales[8 * half + 2 * plane + part];
          const float scale = d * static_cast<float>(sc & 0xf), offset = dmin * static_cast<float>(sc >> 4);
          for (int l = 16 * part; l < 16 * (part + 1); ++l) {
            dst[l] = scale * static_cast<float>((qs[l] >> (2 * plane)) & 3) - offset;
          }
        }
      }
    }
  }
}

void q3_k_to_float(const void* src, float* dst, std::int64_t n) {
  const auto* blocks = static_cast<const BlockQ3_K*>(src);
  int scales[16];
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ3_K& blk = blocks[b];
    const float d = fp16_to_float(blk.d);
    for (int j = 0; j < 16; ++j) scales[j] = unpack_scale_q3_k(blk.scales, j);
    for (int half = 0; half < 2; ++half) {
      const std::uint8_t* qs = blk.qs + 32 * half;
      for (int plane = 0; plane < 4; ++plane, dst += 32) {
        const int hbit = 4 * half + plane;
        for (int part = 0; part < 2; ++part) {
          const float scale = d * static_cast<float>(scales[8 * half + 2 * plane + part]);
          for (int l = 16 * part; l < 16 * (part + 1); ++l) {
            const int low = (qs[l] >> (2 * plane)) & 3;
            const int q = ((blk.hmask[l] >> hbit) & 1) ? low : low - 4;
            dst[l] = scale * static_cast<float>(q);
          }
        }
      }
    }
  }
}

void q4_k_to_float(const void* src, float* dst, std::int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_K*>(src);
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ4_K& blk = blocks[b];
    const float d = fp16_to_float(blk.d), dmin = fp16_to_float(blk.dmin);
    for (int sub = 0; sub < 8; ++sub) {
      std::uint8_t sc, mn;
      unpack_scale_min_k4(blk.scales, sub, sc, mn);
      const float scale = d * static_cast<float>(sc), offset = dmin * static_cast<float>(mn);
      const std::uint8_t* qs = blk.qs + 32 * (sub / 2);
      const int shift = 4 * (sub % 2);
      for (int l = 0; l < 32; ++l) dst[32 * sub + l] = scale * static_cast<float>((qs[l] >> shift) & 0xf) - offset;
    }
    dst += kQK_K;
  }
}

void q5_k_to_float(const void* src, float* dst, std::int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_K*>(src);
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ5_K& blk = blocks[b];
    const float d = fp16_to_float(blk.d), dmin = fp16_to_float(blk.dmin);
    for (int sub = 0; sub < 8; ++sub) {
      std::uint8_t sc, mn;
      unpack_scale_min_k4(blk.scales, sub, sc, mn);
      const float scale = d * static_cast<float>(sc), offset = dmin * static_cast<float>(mn);
      const std::uint8_t* qs = blk.qs + 32 * (sub / 2);
      const int shift = 4 * (sub % 2);
      for (int l = 0; l < 32; ++l) {
        const int q = ((qs[l] >> shift) & 0xf) | (((blk.qh[l] >> sub) & 1) << 4);
        dst[32 * sub + l] = scale * static_cast<float>(q) - offset;
      }
    }
    dst += kQK_K;
  }
}

void q6_k_to_float(const void* src, float* dst, std::int64_t n) {
  const auto* blocks = static_cast<const BlockQ6_K*>(src);
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ6_K& blk = blocks[b];
    const float d = fp16_to_float(blk.d);
    for (int half = 0; half < 2; ++half) {
      const std::uint8_t* ql = blk.ql + 64 * half;
      const std::uint8_t* qh = blk.qh + 32 * half;
      for (int plane = 0; plane < 4; ++plane, dst += 32) {
        const std::uint8_t* low_bytes = ql + 32 * (plane % 2);
        const int low_shift = 4 * (plane / 2);
        for (int part = 0; part < 2; ++part) {
          const float scale = d * static_cast<float>(blk.scales[8 * half + 2 * plane + part]);
          for (int l = 16 * part; l < 16 * (part + 1); ++l) {
            const int q = ((low_bytes[l] >> low_shift) & 0xf) | (((qh[l] >> (2 * plane)) & 3) << 4);
            dst[l] = scale * static_cast<float>(q - 32);
          }
        }
      }
    }
  }
}

}  // namespace autarky::rows

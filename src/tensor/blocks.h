#pragma once
// Block structs of the quantized tensor types, byte for byte as GGUF files store them
// (little-endian, no padding). Every row of a tensor is a whole number of these blocks.
//
// Legacy types hold 32 weights per block with one scale (and maybe a min). K-quants hold 256
// weights per super-block, split into sub-blocks whose scales are themselves quantized against
// one or two fp16 super-scales.

#include <cstdint>

#include "tensor/dtype.h"

namespace autarky {

constexpr int kQK = 32;    // weights per legacy block
constexpr int kQK_K = 256;  // weights per K-quant super-block

// Q4_0: x = d * (q - 8), q in [0, 15]. qs[j] holds weight j in its low nibble and weight j + 16
// in its high nibble.
struct BlockQ4_0 {
  std::uint16_t d;  // fp16
  std::uint8_t qs[kQK / 2];
};

// Q4_1: x = d * q + m, q in [0, 15]; nibbles as in Q4_0.
struct BlockQ4_1 {
  std::uint16_t d;  // fp16
  std::uint16_t m;  // fp16
  std::uint8_t qs[kQK / 2];
};

// Q5_0: x = d * (q - 16), q in [0, 31]. Low 4 bits as in Q4_0; bit j of the little-endian
// 32-bit qh is the fifth bit of weight j.
struct BlockQ5_0 {
  std::uint16_t d;  // fp16
  std::uint8_t qh[4];
  std::uint8_t qs[kQK / 2];
};

// Q5_1: x = d * q + m, q in [0, 31]; bits as in Q5_0.
struct BlockQ5_1 {
  std::uint16_t d;  // fp16
  std::uint16_t m;  // fp16
  std::uint8_t qh[4];
  std::uint8_t qs[kQK / 2];
};

// Q8_0: x = d * q, q in [-127, 127].
struct BlockQ8_0 {
  std::uint16_t d;  // fp16
  std::int8_t qs[kQK];
};

// Q8_1: an activation format: x = d * q like Q8_0, plus s = d * sum(q) so dot products with
// the offset types (Q4_1, Q5_1) can apply the block offset without a second pass.
struct BlockQ8_1 {
  std::uint16_t d;  // fp16
  std::uint16_t s;  // fp16
  std::int8_t qs[kQK];
};

// Q2_K: 16 sub-blocks of 16. x = d * sc * q - dmin * mn, q in [0, 3], sc and mn 4-bit
// (scales[i] = sc | mn << 4). Weight i = 128 * h + 32 * s + l (h < 2, s < 4, l < 32) is bits
// 2s..2s+1 of qs[32 * h + l] and belongs to sub-block i / 16.
struct BlockQ2_K {
  std::uint8_t scales[kQK_K / 16];
  std::uint8_t qs[kQK_K / 4];
  std::uint16_t d;     // fp16
  std::uint16_t dmin;  // fp16
};

// Q3_K: 16 sub-blocks of 16. x = d * (sc - 32) * q, q in [-4, 3], sc 6-bit. Weight
// i = 128 * h + 32 * s + l takes its low 2 bits from qs like Q2_K; bit (4h + s) of hmask[l]
// set means q = low bits, clear means q = low bits - 4. Scale j keeps its low 4 bits in
// scales[j % 8] (low nibble for j < 8, high nibble otherwise) and its top 2 bits in bits
// 2 * (j / 4) of scales[8 + j % 4].
struct BlockQ3_K {
  std::uint8_t hmask[kQK_K / 8];
  std::uint8_t qs[kQK_K / 4];
  std::uint8_t scales[12];
  std::uint16_t d;  // fp16
};

// Q4_K: 8 sub-blocks of 32. x = d * sc * q - dmin * mn, q in [0, 15], sc and mn 6-bit and
// packed in 12 bytes (see unpack_scale_min_k4). Weights 64g..64g+31 are the low nibbles of
// qs[32g..32g+31], weights 64g+32..64g+63 the high nibbles.
struct BlockQ4_K {
  std::uint16_t d;     // fp16
  std::uint16_t dmin;  // fp16
  std::uint8_t scales[12];
  std::uint8_t qs[kQK_K / 2];
};

// Q5_K: Q4_K plus a fifth bit: weight 64g + l (l < 32) has its fifth bit in bit 2g of qh[l],
// weight 64g + 32 + l in bit 2g + 1.
struct BlockQ5_K {
  std::uint16_t d;     // fp16
  std::uint16_t dmin;  // fp16
  std::uint8_t scales[12];
  std::uint8_t qh[kQK_K / 8];
  std::uint8_t qs[kQK_K / 2];
};

// Q6_K: 16 sub-blocks of 16. x = d * sc * (q - 32), q in [0, 63], sc int8. Weight
// 128h + 32s + l (l < 32): low 4 bits are nibble (s / 2) of ql[64h + 32 * (s % 2) + l], top 2
// bits are bits 2s..2s+1 of qh[32h + l]; sub-block (128h + 32s + l) / 16.
struct BlockQ6_K {
  std::uint8_t ql[kQK_K / 2];
  std::uint8_t qh[kQK_K / 4];
  std::int8_t scales[kQK_K / 16];
  std::uint16_t d;  // fp16
};

// Q8_K: the activation format of the K-quant dot products. x = d * q; bsums[i] is the sum of
// qs[16i..16i+15], precomputed so kernels can apply sub-block mins cheaply.
struct BlockQ8_K {
  float d;
  std::int8_t qs[kQK_K];
  std::int16_t bsums[kQK_K / 16];
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

// Q4_K/Q5_K pack eight 6-bit scales and eight 6-bit mins in 12 bytes: entries 0..3 use the low
// 6 bits of bytes 0..3 (scales) and 4..7 (mins); entries 4..7 keep their low 4 bits in the
// nibbles of bytes 8..11 and their top 2 bits in the spare top bits of bytes 0..7.
// Q3_K's 6-bit scale j (layout on BlockQ3_K), minus its bias of 32.
inline int unpack_scale_q3_k(const std::uint8_t* packed, int j) {
  const int low = j < 8 ? (packed[j] & 0xf) : (packed[j - 8] >> 4);
  const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (low | (high << 4)) - 32;
}

inline void unpack_scale_min_k4(const std::uint8_t* packed, int j, std::uint8_t& scale, std::uint8_t& min) {
  if (j < 4) {
    scale = packed[j] & 63;
    min = packed[j + 4] & 63;
  } else {
    scale = static_cast<std::uint8_t>((packed[j + 4] & 0xf) | ((packed[j - 4] >> 6) << 4));
    min = static_cast<std::uint8_t>((packed[j + 4] >> 4) | ((packed[j] >> 6) << 4));
  }
}

}  // namespace autarky

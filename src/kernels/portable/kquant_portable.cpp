// Q2_K, Q3_K, Q4_K, Q5_K and Q6_K weights times Q8_K activations in plain C++ (any CPU, incl. AArch64): each
// super-block of a row is unpacked to bytes once and used for up to four tokens; sub-block dot
// products are int32 loops over 16 or 32 bytes that the compiler vectorizes for the target
// (NEON, SSE2, ...). Integer sums are exact, so results match the x86 kernels up to the
// float rounding of the per-block scaling.

#include <cstdint>

#include "kernels/portable/kquant_portable.h"
#include "tensor/blocks.h"
#include "tensor/fp16.h"

namespace autarky::portable {

namespace {

constexpr int kMaxTokens = 4;  // tokens sharing one unpacked super-block

// Sum of n products of unsigned weights and signed activations.
template <int N>
std::int32_t dot_u8_s8(const std::uint8_t* q, const std::int8_t* a) {
  std::int32_t sum = 0;
  for (int i = 0; i < N; ++i) sum += static_cast<std::int32_t>(q[i]) * a[i];
  return sum;
}

// One super-block, unpacked: q[256] unsigned, sub-block scales, and the weights of the 16
// bsums (mins for Q2_K / Q4_K / Q5_K, 32 * scale for Q6_K's offset, 4 * scale for Q3_K's), so that
//   dot = d * sum_j scale_j * dot(q_j, a_j) - dmin * sum_i bsum_weight_i * bsums_i.
struct Unpacked {
  std::uint8_t q[kQK_K];
  std::int32_t scale[16];
  std::int32_t bsum_weight[16];
  float d, dmin;
};

// The eight scales and mins and the two fp16 factors of Q4_K and Q5_K.
template <typename Block>
void unpack_scales_and_mins(const Block& blk, Unpacked& u) {
  for (int j = 0; j < 8; ++j) {
    std::uint8_t sc, mn;
    unpack_scale_min_k4(blk.scales, j, sc, mn);
    u.scale[j] = sc;
    u.bsum_weight[2 * j] = u.bsum_weight[2 * j + 1] = mn;  // sub-block j covers bsums 2j, 2j+1
  }
  u.d = fp16_to_float(blk.d);
  u.dmin = fp16_to_float(blk.dmin);
}

void unpack(const BlockQ4_K& blk, Unpacked& u) {
  for (int g = 0; g < 4; ++g) {
    for (int l = 0; l < 32; ++l) {
      u.q[64 * g + l] = blk.qs[32 * g + l] & 0xf;
      u.q[64 * g + 32 + l] = blk.qs[32 * g + l] >> 4;
    }
  }
  unpack_scales_and_mins(blk, u);
}

// Q4_K's unpacking plus the fifth bits: codes 0..31, same scales and mins.
void unpack(const BlockQ5_K& blk, Unpacked& u) {
  for (int g = 0; g < 4; ++g) {
    for (int l = 0; l < 32; ++l) {
      const int low_fifth = (blk.qh[l] >> (2 * g)) & 1, high_fifth = (blk.qh[l] >> (2 * g + 1)) & 1;
      u.q[64 * g + l] = static_cast<std::uint8_t>((blk.qs[32 * g + l] & 0xf) | (low_fifth << 4));
      u.q[64 * g + 32 + l] = static_cast<std::uint8_t>((blk.qs[32 * g + l] >> 4) | (high_fifth << 4));
    }
  }
  unpack_scales_and_mins(blk, u);
}

void unpack(const BlockQ6_K& blk, Unpacked& u) {
  for (int h = 0; h < 2; ++h) {
    for (int s = 0; s < 4; ++s) {
      for (int l = 0; l < 32; ++l) {
        const int low = (blk.ql[64 * h + 32 * (s % 2) + l] >> (4 * (s / 2))) & 0xf;
        const int top = (blk.qh[32 * h + l] >> (2 * s)) & 3;
        u.q[128 * h + 32 * s + l] = static_cast<std::uint8_t>(low | (top << 4));  // q + 32, unsigned
      }
    }
  }
  for (int j = 0; j < 16; ++j) {
    u.scale[j] = blk.scales[j];
    u.bsum_weight[j] = 32 * blk.scales[j];
  }
  u.d = u.dmin = fp16_to_float(blk.d);
}

// Q2_K and Q3_K share the 2-bit planes: weight 128h + 32s + l is bits 2s..2s+1 of qs[32h + l].
template <typename Block>
void unpack_two_bit_planes(const Block& blk, Unpacked& u) {
  for (int h = 0; h < 2; ++h) {
    for (int s = 0; s < 4; ++s) {
      for (int l = 0; l < 32; ++l) {
        u.q[128 * h + 32 * s + l] = static_cast<std::uint8_t>((blk.qs[32 * h + l] >> (2 * s)) & 3);
      }
    }
  }
}

void unpack(const BlockQ2_K& blk, Unpacked& u) {
  unpack_two_bit_planes(blk, u);
  for (int j = 0; j < 16; ++j) {
    u.scale[j] = blk.scales[j] & 0xf;
    u.bsum_weight[j] = blk.scales[j] >> 4;
  }
  u.d = fp16_to_float(blk.d);
  u.dmin = fp16_to_float(blk.dmin);
}

// Q3_K: the third bit set means q = low bits, clear means low bits - 4; stored here as the
// unsigned code low + 4 * bit (0..7) with an offset of 4, like Q6_K's 32.
void unpack(const BlockQ3_K& blk, Unpacked& u) {
  unpack_two_bit_planes(blk, u);
  for (int h = 0; h < 2; ++h) {
    for (int s = 0; s < 4; ++s) {
      for (int l = 0; l < 32; ++l) {
        const int bit = (blk.hmask[l] >> (4 * h + s)) & 1;
        u.q[128 * h + 32 * s + l] = static_cast<std::uint8_t>(u.q[128 * h + 32 * s + l] | (bit << 2));
      }
    }
  }
  for (int j = 0; j < 16; ++j) {
    u.scale[j] = unpack_scale_q3_k(blk.scales, j);
    u.bsum_weight[j] = 4 * u.scale[j];
  }
  u.d = u.dmin = fp16_to_float(blk.d);
}

template <int GroupSize>
float block_dot(const Unpacked& u, const BlockQ8_K& a) {
  std::int32_t sum = 0;
  for (int j = 0; j < kQK_K / GroupSize; ++j)
    sum += u.scale[j] * dot_u8_s8<GroupSize>(u.q + GroupSize * j, a.qs + GroupSize * j);
  std::int32_t offset = 0;
  for (int i = 0; i < 16; ++i) offset += u.bsum_weight[i] * a.bsums[i];
  return a.d * (u.d * static_cast<float>(sum) - u.dmin * static_cast<float>(offset));
}

template <typename Block, int GroupSize>
void rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens, float* y,
          std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  const std::int64_t n_blocks = w.n_in / kQK_K;
  Unpacked u;
  for (std::int64_t t0 = 0; t0 < n_tokens; t0 += kMaxTokens) {
    const int nt = static_cast<int>(n_tokens - t0 < kMaxTokens ? n_tokens - t0 : kMaxTokens);
    const BlockQ8_K* xs[kMaxTokens];
    for (int t = 0; t < nt; ++t)
      xs[t] = reinterpret_cast<const BlockQ8_K*>(x + static_cast<std::uint64_t>(t0 + t) * x_row_bytes);
    for (std::int64_t o = row_begin; o < row_end; ++o) {
      const auto* row = reinterpret_cast<const Block*>(w.row(o));
      float sums[kMaxTokens] = {};
      for (std::int64_t b = 0; b < n_blocks; ++b) {
        unpack(row[b], u);
        for (int t = 0; t < nt; ++t) sums[t] += block_dot<GroupSize>(u, xs[t][b]);
      }
      for (int t = 0; t < nt; ++t) y[(t0 + t) * y_stride + o] = sums[t];
    }
  }
}

}  // namespace

void q2_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  rows<BlockQ2_K, 16>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void q3_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  rows<BlockQ3_K, 16>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void q4_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  rows<BlockQ4_K, 32>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void q5_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  rows<BlockQ5_K, 32>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void q6_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  rows<BlockQ6_K, 16>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

}  // namespace autarky::portable

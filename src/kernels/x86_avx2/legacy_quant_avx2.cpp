// Legacy 32-weight block types (Q8_0, Q4_0, Q5_0 against Q8_0 activations; Q4_1, Q5_1 against
// Q8_1, as llama.cpp pairs them) with AVX2: one weight row at a time, its blocks read in order (one sequential stream per thread,
// prefetched ahead), every token of the call against the row.
//
// Per block the int8 dot product is exact in int32: vpmaddubsw (unsigned x signed byte pairs,
// no saturation for these ranges) and vpmaddwd against ones. The nibble types keep their codes
// unsigned (0..15, 0..31) and subtract offset * sum(a) afterwards (sum(a) per activation block is
// computed once per call); Q8_0's signed codes go through the usual |w| x sign(a, w). Four blocks'
// totals are reduced together, scaled as (d_w * d_a) * dot in four float lanes, and lane k sums
// blocks k, k + 4, ...; the lanes are added once per row in a fixed order. The min term of
// Q4_1 / Q5_1 (m_w * s_a, s_a = d_a * sum(a) as the Q8_1 block stores it in fp16) has four
// lanes of its own, added at the end. Every output
// gets these same operations whatever the number of tokens in the call, so batching does not
// change results.
//
// Compiled with AVX2/FMA/F16C flags: no inline functions of shared headers (see kernel_sets.h).

#include "kernels/x86_avx2/legacy_quant_avx2.h"

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/scratch.h"

namespace autarky::avx2 {

namespace {

constexpr int kBlock = 32;
constexpr int kGroup = 4;  // blocks reduced and scaled together

enum class Legacy { kQ8_0, kQ4_0, kQ4_1, kQ5_0, kQ5_1 };

// Where a block's fields are, and how its codes become weights (w = d * (code - offset) + m).
template <Legacy T>
struct Layout {
  static constexpr bool kMin = T == Legacy::kQ4_1 || T == Legacy::kQ5_1;
  static constexpr bool kSigned = T == Legacy::kQ8_0;  // codes stored as int8
  static constexpr bool kFifthBit = T == Legacy::kQ5_0 || T == Legacy::kQ5_1;
  static constexpr int kBytes = T == Legacy::kQ8_0 ? 34 : T == Legacy::kQ4_0 ? 18 : T == Legacy::kQ4_1 ? 20
                                : T == Legacy::kQ5_0 ? 22 : 24;
  static constexpr int kQh = T == Legacy::kQ5_0 ? 2 : 4;  // fifth bits (Q5 types)
  static constexpr int kQs = T == Legacy::kQ8_0 || T == Legacy::kQ4_0 ? 2 : T == Legacy::kQ4_1 ? 4
                             : T == Legacy::kQ5_0 ? 6 : 8;
  static constexpr int kOffset = T == Legacy::kQ4_0 ? 8 : T == Legacy::kQ5_0 ? 16 : 0;
  // Activation blocks: Q8_1 (fp16 d, fp16 s, 32 int8) for the types with a min, else Q8_0.
  static constexpr int kActBytes = kMin ? 36 : 34;
  static constexpr int kActCodes = kMin ? 4 : 2;
};

std::int32_t load_i32(const void* p) {
  std::int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint16_t load_u16(const void* p) {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The 32 codes of one block: unsigned for the nibble types, int8 for Q8_0.
template <Legacy T>
__m256i block_codes(const std::uint8_t* blk) {
  using L = Layout<T>;
  if constexpr (L::kSigned) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + L::kQs));
  } else {
    // Byte i of qs: weight i in the low nibble, weight i + 16 in the high one.
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + L::kQs));
    __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F));
    if constexpr (L::kFifthBit) {
      // Bit i of qh is weight i's fifth bit: byte i takes qh byte i / 8, keeps bit i % 8, and
      // becomes 0x10 where it is set.
      const __m256i qh = _mm256_set1_epi32(load_i32(blk + L::kQh));
      const __m256i spread = _mm256_shuffle_epi8(qh, _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                                                        0x0101010101010101, 0x0000000000000000));
      const __m256i bit = _mm256_set1_epi64x(static_cast<std::int64_t>(0x8040201008040201));
      const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
      q = _mm256_or_si256(q, _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
    }
    return q;
  }
}

// Eight int32 partial sums of codes . a (exact).
template <Legacy T>
__m256i block_dot(__m256i codes, const std::uint8_t* a_block) {
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a_block + Layout<T>::kActCodes));
  __m256i pairs;
  if constexpr (Layout<T>::kSigned) {
    // |w| x sign(a, w): byte pairs at most 2 * 127 * 128 for Q8_0 codes (|w| <= 127).
    pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(codes, codes), _mm256_sign_epi8(a, codes));
  } else {
    pairs = _mm256_maddubs_epi16(codes, a);  // at most 2 * 31 * 128
  }
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

// [total of v0, v1, v2, v3].
__m128i sum_four(__m256i v0, __m256i v1, __m256i v2, __m256i v3) {
  const __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(v0, v1), _mm256_hadd_epi32(v2, v3));
  return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

// fp16 fields of a group's blocks (at p + k * stride for lane k) as four floats. In a last group
// of n < 4 blocks, lanes n.. repeat block n - 1: blocks past the row's end are never read, and
// the zero activation info of those lanes cancels them.
__attribute__((always_inline)) inline __m128 four_halves(const std::uint8_t* p, std::int64_t stride, int n) {
  const auto at = [p](std::int64_t offset) { return static_cast<short>(load_u16(p + offset)); };
  if (n == kGroup) return _mm_cvtph_ps(_mm_setr_epi16(at(0), at(stride), at(2 * stride), at(3 * stride), 0, 0, 0, 0));
  const auto lane = [stride, n](int k) { return (k < n ? k : n - 1) * stride; };
  return _mm_cvtph_ps(_mm_setr_epi16(at(0), at(lane(1)), at(lane(2)), at(lane(3)), 0, 0, 0, 0));
}

// Per call: each token's activation scales d_a, offset * sum(a) (int32; the correction of the
// nibble types whose codes are stored with an offset) and, for min types, the Q8_1 block's s. Zero past
// the row's last block, up to a whole group.
struct TokenInfo {
  const float* d;
  const std::int32_t* offset_sum;
  const float* d_sum;
};

// Decode reads rows once: ask for the bytes kPrefetchBytes ahead of the block being read (past a
// row's end that is the next row, which is next in memory; prefetches never fault).
constexpr std::int64_t kPrefetchBytes = 2048;

// out[t] = dot(row, token t) for nt tokens. Codes(b) gives block b's codes, Scales(b) the d_w of
// blocks b .. b + 3 and Mins(b) their m_w (min types); lanes past the row's end hold the d_w / m_w
// of the row's last block, which the zero activation info then cancels.
template <Legacy T, class Codes, class Scales, class Mins>
void row_against_tokens(std::int64_t nb, const std::uint8_t* const* xs, const TokenInfo* info, int nt, Codes codes,
                        Scales scales, Mins mins, float* out) {
  using L = Layout<T>;
  for (int t = 0; t < nt; ++t) {
    const std::uint8_t* x = xs[t];
    __m128 acc = _mm_setzero_ps(), acc_min = _mm_setzero_ps();
    for (std::int64_t b = 0; b < nb; b += kGroup) {
      const int n = nb - b < kGroup ? static_cast<int>(nb - b) : kGroup;
      __m256i v[kGroup];
#pragma GCC unroll 4
      for (int k = 0; k < kGroup; ++k) {
        v[k] = k < n ? block_dot<T>(codes(b + k), x + (b + k) * L::kActBytes) : _mm256_setzero_si256();
      }
      __m128i dots = sum_four(v[0], v[1], v[2], v[3]);
      const __m128 da = _mm_loadu_ps(info[t].d + b);
      if constexpr (L::kOffset != 0) {
        dots = _mm_sub_epi32(dots, _mm_loadu_si128(reinterpret_cast<const __m128i*>(info[t].offset_sum + b)));
      }
      acc = _mm_add_ps(acc, _mm_mul_ps(_mm_mul_ps(scales(b), da), _mm_cvtepi32_ps(dots)));
      if constexpr (L::kMin) acc_min = _mm_add_ps(acc_min, _mm_mul_ps(mins(b), _mm_loadu_ps(info[t].d_sum + b)));
    }
    // Lanes in a fixed order: (0 + 1) + (2 + 3), then the min term's the same way.
    const __m128 pair = _mm_add_ps(acc, _mm_movehdup_ps(acc));  // lanes 0, 2: 0 + 1, 2 + 3
    float total = _mm_cvtss_f32(_mm_add_ss(pair, _mm_movehl_ps(pair, pair)));
    if constexpr (L::kMin) {
      const __m128 mpair = _mm_add_ps(acc_min, _mm_movehdup_ps(acc_min));
      total += _mm_cvtss_f32(_mm_add_ss(mpair, _mm_movehl_ps(mpair, mpair)));
    }
    out[t] = total;
  }
}

// d_a, offset * sum(a) and s_a of every block of one token's activations (zero past the row's end,
// up to a whole group).
template <Legacy T>
TokenInfo token_info(const std::uint8_t* x, std::int64_t nb, std::int64_t nb_padded, float* mem) {
  using L = Layout<T>;
  auto* offset_sum = reinterpret_cast<std::int32_t*>(mem + nb_padded);
  float* d_sum = mem + 2 * nb_padded;
  for (std::int64_t b = 0; b < nb_padded; ++b) {
    mem[b] = 0.0f;
    offset_sum[b] = 0;
    d_sum[b] = 0.0f;
    if (b >= nb) continue;
    const std::uint8_t* a = x + b * L::kActBytes;
    mem[b] = _cvtsh_ss(load_u16(a));
    if constexpr (L::kMin) {
      d_sum[b] = _cvtsh_ss(load_u16(a + 2));
      continue;  // codes stored without an offset
    }
    const __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 2)));
    const __m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1));
    const __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
    const __m128i s2 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
    const std::int32_t sum = _mm_cvtsi128_si32(_mm_add_epi32(s2, _mm_srli_epi64(s2, 32)));
    offset_sum[b] = L::kOffset * sum;
  }
  return {mem, offset_sum, d_sum};
}

template <Legacy T>
void legacy_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                 float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  using L = Layout<T>;
  const std::int64_t nb = w.n_in / kBlock;
  const std::int64_t nb_padded = (nb + kGroup - 1) / kGroup * kGroup;  // groups read 4 blocks' info
  const std::size_t per_token = static_cast<std::size_t>(nb_padded) * 3;  // floats
  auto* info_mem = reinterpret_cast<float*>(kernels::thread_scratch(
      kernels::ScratchSlot::kActivationInfo, per_token * sizeof(float) * static_cast<std::size_t>(n_tokens)));
  constexpr int kTokenGroup = 8;
  if (n_tokens == 1) {
    // Decode: codes straight from the row, which is read once, in order.
    const TokenInfo info = token_info<T>(x, nb, nb_padded, info_mem);
    for (std::int64_t r = row_begin; r < row_end; ++r) {
      const std::uint8_t* row = w.data + static_cast<std::uint64_t>(r) * w.row_bytes;
      const auto codes = [row](std::int64_t b) __attribute__((always_inline)) {
        const std::uint8_t* blk = row + b * L::kBytes;
        _mm_prefetch(reinterpret_cast<const char*>(blk + kPrefetchBytes), _MM_HINT_T0);
        return block_codes<T>(blk);
      };
      const auto in_group = [nb](std::int64_t b) { return static_cast<int>(nb - b < kGroup ? nb - b : kGroup); };
      const auto scales = [row, in_group](std::int64_t b) __attribute__((always_inline)) {
        return four_halves(row + b * L::kBytes, L::kBytes, in_group(b));
      };
      const auto mins = [row, in_group](std::int64_t b) __attribute__((always_inline)) {
        return four_halves(row + b * L::kBytes + 2, L::kBytes, in_group(b));
      };
      row_against_tokens<T>(nb, &x, &info, 1, codes, scales, mins, y + r);
    }
    return;
  }
  // Several tokens: each row's codes, scales and mins are unpacked once into L1 and reused by
  // every token (the same values the decode path computes per block).
  for (std::int64_t t = 0; t < n_tokens; ++t) {
    token_info<T>(x + static_cast<std::uint64_t>(t) * x_row_bytes, nb, nb_padded,
                  info_mem + static_cast<std::size_t>(t) * per_token);
  }
  auto* codes_mem = reinterpret_cast<__m256i*>(kernels::thread_scratch(
      kernels::ScratchSlot::kRowBuffer,
      static_cast<std::size_t>(nb) * sizeof(__m256i) + static_cast<std::size_t>(nb_padded) * 2 * sizeof(float)));
  float* scales_mem = reinterpret_cast<float*>(codes_mem + nb);
  float* mins_mem = scales_mem + nb_padded;
  const auto codes = [codes_mem](std::int64_t b) __attribute__((always_inline)) { return _mm256_loadu_si256(codes_mem + b); };
  const auto scales = [scales_mem](std::int64_t b) __attribute__((always_inline)) { return _mm_loadu_ps(scales_mem + b); };
  const auto mins = [mins_mem](std::int64_t b) __attribute__((always_inline)) { return _mm_loadu_ps(mins_mem + b); };
  for (std::int64_t r = row_begin; r < row_end; ++r) {
    const std::uint8_t* row = w.data + static_cast<std::uint64_t>(r) * w.row_bytes;
    for (std::int64_t b = 0; b < nb_padded; ++b) {
      const std::uint8_t* blk = row + (b < nb ? b : nb - 1) * L::kBytes;  // as four_halves past the end
      if (b < nb) _mm256_storeu_si256(codes_mem + b, block_codes<T>(blk));
      scales_mem[b] = _cvtsh_ss(load_u16(blk));
      if constexpr (L::kMin) mins_mem[b] = _cvtsh_ss(load_u16(blk + 2));
    }
    for (std::int64_t t0 = 0; t0 < n_tokens; t0 += kTokenGroup) {
      const int nt = static_cast<int>(n_tokens - t0 < kTokenGroup ? n_tokens - t0 : kTokenGroup);
      const std::uint8_t* xs[kTokenGroup];
      TokenInfo infos[kTokenGroup];
      for (int t = 0; t < nt; ++t) {
        xs[t] = x + static_cast<std::uint64_t>(t0 + t) * x_row_bytes;
        float* mem = info_mem + static_cast<std::size_t>(t0 + t) * per_token;
        infos[t] = {mem, reinterpret_cast<const std::int32_t*>(mem + nb_padded), mem + 2 * nb_padded};
      }
      float out[kTokenGroup];
      row_against_tokens<T>(nb, xs, infos, nt, codes, scales, mins, out);
      for (int t = 0; t < nt; ++t) y[(t0 + t) * y_stride + r] = out[t];
    }
  }
}

}  // namespace

void q8_0_q8_0_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  legacy_rows<Legacy::kQ8_0>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}
void q4_0_q8_0_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  legacy_rows<Legacy::kQ4_0>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}
void q4_1_q8_1_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  legacy_rows<Legacy::kQ4_1>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}
void q5_0_q8_0_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  legacy_rows<Legacy::kQ5_0>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}
void q5_1_q8_1_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  legacy_rows<Legacy::kQ5_1>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

}  // namespace autarky::avx2

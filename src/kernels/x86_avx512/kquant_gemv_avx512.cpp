// Q4_K, Q5_K and Q6_K weights times Q8_K activations, one weight row at a time, for few tokens
// (decode). Each super-block of a row is unpacked to 256 unsigned bytes once and multiplied with
// up to four tokens with VNNI (vpdpbusd: u8 weights x s8 activations, 4 products per int32 lane).
//
// Sub-block scales are applied in integers: a vpdpbusd lane holds 4 products, at most
// 4 * 63 * 128 in magnitude, which fits int16, so vpdpwssd against a lane-wise scale (low half of
// each int32, high half zero) multiplies and adds it exactly. Mins (Q4_K, Q5_K) and the -32 offset
// (Q6_K) come from the activation block sums (Q8_K bsums), so they cost one vpmaddwd per
// super-block. The lanes are then summed exactly (two super-blocks per reduction) and each
// super-block does one FMS (Q4_K, Q5_K) or FMA (Q6_K) into a float: the arithmetic of the prompt
// kernel, per output.
//
// Compiled with AVX-512 flags: no inline functions of shared headers (see kernel_sets.h).
//
// The short fixed loops (4 groups, NT tokens) carry `#pragma GCC unroll`: GCC 12 kept some of
// them as loops, which puts the unpacked vectors in stack memory and reloads them; unrolled, they
// stay in registers (Q4_K whole-model decode +17%, KERNELS-LOG).

// GCC 12's AVX-512 headers build "undefined" vectors by self-initialisation, which its own
// -Wuninitialized then reports from inside the intrinsics.
#pragma GCC diagnostic ignored "-Wuninitialized"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/kquant_token_groups.h"
#include "kernels/x86_avx512/kquant_avx512.h"
#include "kernels/x86_avx2/q3_k_scales_avx2.h"
#include "tensor/blocks.h"

namespace autarky::avx512 {

namespace {

float half_to_float(std::uint16_t h) { return _cvtsh_ss(h); }

// Q4_K's 12 packed bytes to eight 6-bit scales (bytes 0-7 of .scales) and eight 6-bit mins
// (bytes 0-7 of .mins), layout in blocks.h. With a, b, c the three 32-bit words:
//   scales = [a & 0x3f.., (c & 0x0f..) | (a >> 6 & 0x03..) << 4]
//   mins   = [b & 0x3f.., (c >> 4 & 0x0f..) | (b >> 6 & 0x03..) << 4]
// computed as the four words of one vector. The 16-byte load reads 4 bytes past the scales,
// still inside the block (qh or qs follow).
struct ScalesAndMins {
  __m128i scales;
  __m128i mins;
};

inline ScalesAndMins unpack_q4_k_scales(const std::uint8_t* packed) {
  const __m128i abc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(packed));
  const __m128i acbc = _mm_shuffle_epi32(abc, _MM_SHUFFLE(2, 1, 2, 0));  // [a, c, b, c]
  const __m128i xaxb = _mm_shuffle_epi32(abc, _MM_SHUFFLE(1, 1, 0, 0));  // [., a, ., b]
  const __m128i low = _mm_and_si128(_mm_srlv_epi32(acbc, _mm_set_epi32(4, 0, 0, 0)),
                                    _mm_set_epi32(0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f));
  const __m128i top = _mm_and_si128(_mm_srli_epi32(xaxb, 2), _mm_set_epi32(0x30303030, 0, 0x30303030, 0));
  const __m128i words = _mm_or_si128(low, top);  // [scales lo, scales hi, mins lo, mins hi]
  return {words, _mm_unpackhi_epi64(words, words)};
}

// Permutation indices: lane l takes entry first + l / lanes_per_entry (the scales of one
// 64-weight group spread over the vpdpbusd lanes that hold its sub-blocks).
__m512i spread_index(int first, int lanes_per_entry) {
  alignas(64) std::int32_t idx[16];
  for (int l = 0; l < 16; ++l) idx[l] = first + l / lanes_per_entry;
  return _mm512_load_si512(idx);
}

// Decode streams each weight row once, so DRAM latency, not arithmetic, is what a row waits for
// unless enough cache lines are in flight: ask for the super-block kPrefetchBlocks ahead (past a
// row's end that is the next row, which is next in memory; prefetches never fault). 32 blocks
// (4.5-6.6 KiB) measured ~7% faster whole-model decode than 16 now that the rows do less work per
// block; 64 was no better.
constexpr std::int64_t kPrefetchBlocks = 32;

template <typename Block>
void prefetch_block(const Block* blk) {
  const char* p = reinterpret_cast<const char*>(blk);
  for (std::size_t off = 0; off < sizeof(Block); off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
}

// [sum of a's lanes, b's, c's, d's], exact: four totals for about the price of one.
__m128i sum_four(__m512i a, __m512i b, __m512i c, __m512i d) {
  const __m512i ab = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
  const __m512i cd = _mm512_add_epi32(_mm512_unpacklo_epi32(c, d), _mm512_unpackhi_epi32(c, d));
  const __m512i abcd = _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd), _mm512_unpackhi_epi64(ab, cd));
  const __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(abcd), _mm512_extracti64x4_epi64(abcd, 1));
  return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

// acc + a * b, rounded once (as _mm512_fmadd_ps does lane-wise in the prompt kernel). A builtin,
// not std::fma: no inline functions of shared headers here.
float fma_scalar(float a, float b, float acc) { return __builtin_fmaf(a, b, acc); }

// One super-block against one token, before the float step: the scaled sub-block sums (lanes of
// `sums`) and the bsum term (lanes of `bsum_term`), whose totals are exact, and the factors they
// are multiplied by.
struct BlockTerms {
  __m512i sums = _mm512_setzero_si512();
  __m512i bsum_term = _mm512_setzero_si512();
  __m128 factors = _mm_setzero_ps();  // [d dx, dmin dx, 0, 0]: block scales x token scale (Q6_K: d dx only)
};

// The super-block's weights as unsigned bytes (four vectors of 64) and the sub-block scale of
// each vpdpbusd lane (int16 in the low half of each int32 lane).
struct UnpackedRowBlock {
  __m512i q[4], scale[4];
};

// Each 32-byte group of qs is loaded once into both halves of a vector (a broadcast load, no
// shuffle) and one variable shift per 64-bit lane brings the high nibbles of the upper half down:
// byte i of a quadword shifted right by 4 keeps byte i's high nibble in its low 4 bits.
template <typename Block>
UnpackedRowBlock unpack_q45_k_block(const Block& blk, __m128i scales, const __m512i* spread) {
  constexpr bool kFifthBit = std::is_same_v<Block, BlockQ5_K>;
  const __m512i nibble = _mm512_set1_epi8(0x0f);
  const __m512i halves = _mm512_set_epi64(4, 4, 4, 4, 0, 0, 0, 0);  // lower half: low nibbles
  const __m512i sc32 = _mm512_cvtepu8_epi32(scales);
  UnpackedRowBlock u;
#pragma GCC unroll 4
  for (int g = 0; g < 4; ++g) {
    const __m512i packed = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * g)));
    __m512i q = _mm512_and_si512(_mm512_srlv_epi64(packed, halves), nibble);
    if constexpr (kFifthBit) {  // bit 2g of qh[l]: weight 64g + l; bit 2g + 1: weight 64g + 32 + l
      const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh)));
      const __m512i bit = _mm512_set_epi64(2 * g + 1, 2 * g + 1, 2 * g + 1, 2 * g + 1, 2 * g, 2 * g, 2 * g, 2 * g);
      q = _mm512_or_si512(q, _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(qh, bit), _mm512_set1_epi8(1)), 4));
    }
    u.q[g] = q;  // weights 64g .. 64g+63
    u.scale[g] = _mm512_permutexvar_epi32(spread[g], sc32);
  }
  return u;
}

// Sum over the four 64-weight groups of scale * (4-product vpdpbusd lane): exact in int32.
__m512i scaled_sums(const UnpackedRowBlock& u, const BlockQ8_K& a) {
  __m512i isum = _mm512_setzero_si512();
#pragma GCC unroll 4
  for (int g = 0; g < 4; ++g) {
    const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u.q[g], _mm512_loadu_si512(a.qs + 64 * g));
    isum = _mm512_dpwssd_epi32(isum, p, u.scale[g]);  // p fits int16: 4 * 63 * 128
  }
  return isum;
}

// A row's super-blocks in pairs, so one sum_four gives both blocks' totals. terms(b, out) fills
// super-block b's BlockTerms for the NT tokens; fold(totals [S0, M0, S1, M1], first, second, pair,
// acc) adds the pair (or the first block alone) to a token's float, in block order.
template <int NT, typename Block, typename Terms, typename Fold>
__attribute__((always_inline)) inline void row_in_block_pairs(const Block* w, std::int64_t n_blocks, Terms terms,
                                                              Fold fold, float* out) {
  float acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = 0.0f;
  for (std::int64_t b = 0; b < n_blocks; b += 2) {
    const bool pair = b + 1 < n_blocks;
    BlockTerms first[NT], second[NT];
    prefetch_block(w + b + kPrefetchBlocks);
    terms(b, first);
    if (pair) {
      prefetch_block(w + b + 1 + kPrefetchBlocks);
      terms(b + 1, second);
    }
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      const __m128i totals = sum_four(first[t].sums, first[t].bsum_term, second[t].sums, second[t].bsum_term);
      acc[t] = fold(totals, first[t], second[t], pair, acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = acc[t];
}

// How a pair of super-blocks' exact totals [S0, M0, S1, M1] (sum_four) join a token's float, in
// block order. The types with mins (Q2_K, Q4_K, Q5_K) add S * (d dx) - M * (dmin dx), one FMS per
// block, as the prompt kernel computes them per row.
struct FoldWithMins {
  __attribute__((always_inline)) float operator()(__m128i tot, const BlockTerms& first, const BlockTerms& second,
                                                  bool pair, float acc) const {
    const __m128 totals = _mm_cvtepi32_ps(tot);
    const __m128 factors = _mm_movelh_ps(first.factors, second.factors);
    const __m128 mins = _mm_movehdup_ps(_mm_mul_ps(totals, factors));
    const __m128 blocks = _mm_fmsub_ps(totals, factors, mins);
    acc += _mm_cvtss_f32(blocks);
    if (pair) acc += _mm_cvtss_f32(_mm_movehl_ps(blocks, blocks));
    return acc;
  }
};

// The types whose codes are stored with an offset (Q3_K, Q6_K): the offset term M is part of the
// exact total, and each block adds (S - M) * (d dx) in one FMA.
struct FoldOffset {
  __attribute__((always_inline)) float operator()(__m128i tot, const BlockTerms& first, const BlockTerms& second,
                                                  bool pair, float acc) const {
    const __m128 s = _mm_cvtepi32_ps(_mm_sub_epi32(tot, _mm_srli_epi64(tot, 32)));
    acc = fma_scalar(_mm_cvtss_f32(s), _mm_cvtss_f32(first.factors), acc);
    if (pair) acc = fma_scalar(_mm_cvtss_f32(_mm_movehl_ps(s, s)), _mm_cvtss_f32(second.factors), acc);
    return acc;
  }
};

// d and dmin of a block whose two fp16 fields are adjacent (Q2_K, Q4_K, Q5_K), as [d, dmin, ., .].
template <typename Block>
__attribute__((always_inline)) inline __m128 d_and_dmin(const Block& blk) {
  static_assert(offsetof(Block, dmin) == offsetof(Block, d) + 2, "d and dmin are read as one word");
  std::uint32_t d_dmin;  // the two fields, converted together
  std::memcpy(&d_dmin, reinterpret_cast<const std::uint8_t*>(&blk) + offsetof(Block, d), sizeof d_dmin);
  return _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(d_dmin)));
}

// Per token, the terms of a type with mins (Q2_K, Q4_K, Q5_K): M = the int16 mins16 (one per
// Q8_K bsum) dotted with the bsums; factors [d dx, dmin dx].
template <int NT>
__attribute__((always_inline)) inline void min_terms(const UnpackedRowBlock& u, __m256i mins16, __m128 d_dmin,
                                                     const BlockQ8_K* const* x, std::int64_t b, BlockTerms* terms) {
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) {
    const BlockQ8_K& a = x[t][b];
    terms[t].sums = scaled_sums(u, a);
    terms[t].bsum_term = _mm512_zextsi256_si512(
        _mm256_madd_epi16(mins16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums))));
    terms[t].factors = _mm_mul_ps(d_dmin, _mm_set1_ps(a.d));
  }
}

// Per token, the terms of a type whose codes are stored as q + 2^kShift (Q3_K: 4, Q6_K: 32): M is
// 2^kShift * (the 16 int16 scales sc16 dotted with the bsums); factor d dx.
template <int NT, int kShift>
__attribute__((always_inline)) inline void offset_terms(const UnpackedRowBlock& u, __m256i sc16, float d,
                                                        const BlockQ8_K* const* x, std::int64_t b, BlockTerms* terms) {
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t) {
    const BlockQ8_K& a = x[t][b];
    terms[t].sums = scaled_sums(u, a);
    terms[t].bsum_term = _mm512_zextsi256_si512(_mm256_slli_epi32(
        _mm256_madd_epi16(sc16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums))), kShift));
    terms[t].factors = _mm_set_ss(d * a.d);
  }
}

template <typename Block, int NT>
__attribute__((always_inline)) inline void q45_k_terms(const Block& blk, const BlockQ8_K* const* x, std::int64_t b,
                                                       const __m512i* spread, BlockTerms* terms) {
  const ScalesAndMins sm = unpack_q4_k_scales(blk.scales);
  const UnpackedRowBlock u = unpack_q45_k_block(blk, sm.scales, spread);
  const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(sm.mins, sm.mins));  // each min twice
  min_terms<NT>(u, mins16, d_and_dmin(blk), x, b, terms);
}

// One Q4_K or Q5_K row against NT tokens; out[t] = dot(row, token t). Per super-block, the
// scaled sub-block sums S and the mins term M are exact int32 totals; the block adds
// S * (d dx) - M * (dmin dx) (one FMS) to one float: the prompt kernel (kquant_gemm_avx512.cpp)
// does the same, so batching does not change results.
template <typename Block, int NT>
void q45_k_row(const Block* w, const BlockQ8_K* const* x, std::int64_t n_blocks, float* out) {
  __m512i spread[4];
  for (int g = 0; g < 4; ++g) spread[g] = spread_index(2 * g, 8);  // sub-blocks 2g, 2g+1
  const auto terms = [&](std::int64_t b, BlockTerms* t) __attribute__((always_inline)) {
    q45_k_terms<Block, NT>(w[b], x, b, spread, t);
  };
  row_in_block_pairs<NT>(w, n_blocks, terms, FoldWithMins{}, out);
}

template <int NT>
__attribute__((always_inline)) inline void q6_k_terms(const BlockQ6_K& blk, const BlockQ8_K* const* x, std::int64_t b,
                                                      const __m512i* spread, BlockTerms* terms) {
  const __m512i nibble = _mm512_set1_epi8(0x0f);
  const __m512i two_bits = _mm512_set1_epi8(0x03);
  // qh holds four 2-bit fields per byte; the lower 32 bytes of a group take field 2k, the upper
  // field 2k + 1 (k = 0 for the low nibbles of ql, 1 for the high ones).
  const __m512i shift_lo = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
  const __m512i shift_hi = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(6), 1);
  const __m512i low16 = _mm512_set1_epi32(0xffff);
  const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales));
  const __m512i sc32 = _mm512_and_si512(_mm512_cvtepi8_epi32(sc8), low16);  // int16 in the low half
  UnpackedRowBlock u;
#pragma GCC unroll 4
  for (int h = 0; h < 2; ++h) {
    const __m512i ql = _mm512_loadu_si512(blk.ql + 64 * h);
    const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh + 32 * h)));
    const __m512i top_lo = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shift_lo), two_bits), 4);
    const __m512i top_hi = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shift_hi), two_bits), 4);
    u.q[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, nibble), top_lo);  // weights 128h .. 128h+63
    u.q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), nibble), top_hi);
  }
#pragma GCC unroll 4
  for (int g = 0; g < 4; ++g) u.scale[g] = _mm512_permutexvar_epi32(spread[g], sc32);
  const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
  offset_terms<NT, 5>(u, sc16, half_to_float(blk.d), x, b, terms);  // stored q + 32
}

// One Q6_K row against NT tokens; one exact int32 total per super-block, as in q45_k_row.
template <int NT>
void q6_k_row(const BlockQ6_K* w, const BlockQ8_K* const* x, std::int64_t n_blocks, float* out) {
  __m512i spread[4];
  for (int g = 0; g < 4; ++g) spread[g] = spread_index(4 * g, 4);  // sub-blocks 4g .. 4g+3
  const auto terms = [&](std::int64_t b, BlockTerms* t) __attribute__((always_inline)) {
    q6_k_terms<NT>(w[b], x, b, spread, t);
  };
  row_in_block_pairs<NT>(w, n_blocks, terms, FoldOffset{}, out);
}

// ---- Q2_K, Q3_K: 16 sub-blocks of 16 weights ----
//
// The low two bits of weight 128h + 32s + l are bits 2s, 2s + 1 of qs[32h + l], so the 64 weights
// 64g .. 64g + 63 (h = g / 2, s = 2 (g % 2) and s + 1) come from one 32-byte half of qs, loaded
// into both halves of a vector and shifted by 2s in the lower half, 2s + 2 in the upper: the
// Q4_K trick with 2-bit fields. Q3_K's third bit of those weights is bit 4h + s = 2g of hmask[l]
// (bit 2g + 1 for the upper half), the same pattern as Q5_K's qh.
template <typename Block>
__attribute__((always_inline)) inline void unpack_two_bit_codes(const Block& blk, const __m512i* spread,
                                                                __m512i sc32, UnpackedRowBlock& u) {
  const __m512i two_bits = _mm512_set1_epi8(0x03);
#pragma GCC unroll 4
  for (int g = 0; g < 4; ++g) {
    const int shift = 4 * (g % 2);
    const __m512i packed =
        _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * (g / 2))));
    __m512i q = _mm512_and_si512(_mm512_srlv_epi64(packed, _mm512_set_epi64(shift + 2, shift + 2, shift + 2, shift + 2,
                                                                               shift, shift, shift, shift)),
                                 two_bits);
    if constexpr (std::is_same_v<Block, BlockQ3_K>) {  // stored code: low bits + 4 * third bit (0..7)
      const __m512i hm = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.hmask)));
      const __m512i bit = _mm512_set_epi64(2 * g + 1, 2 * g + 1, 2 * g + 1, 2 * g + 1, 2 * g, 2 * g, 2 * g, 2 * g);
      q = _mm512_or_si512(q, _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(hm, bit), _mm512_set1_epi8(1)), 2));
    }
    u.q[g] = q;
    u.scale[g] = _mm512_permutexvar_epi32(spread[g], sc32);
  }
}

template <int NT>
__attribute__((always_inline)) inline void q2_k_terms(const BlockQ2_K& blk, const BlockQ8_K* const* x, std::int64_t b,
                                                      const __m512i* spread, BlockTerms* terms) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales));
  const __m128i nibble = _mm_set1_epi8(0x0f);
  const __m512i sc32 = _mm512_cvtepu8_epi32(_mm_and_si128(packed, nibble));
  const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), nibble));
  UnpackedRowBlock u;
  unpack_two_bit_codes(blk, spread, sc32, u);
  min_terms<NT>(u, mins16, d_and_dmin(blk), x, b, terms);
}

template <int NT>
__attribute__((always_inline)) inline void q3_k_terms(const BlockQ3_K& blk, const BlockQ8_K* const* x, std::int64_t b,
                                                      const __m512i* spread, BlockTerms* terms) {
  const __m128i sc8 = q3_k_scales(blk.scales);
  const __m512i sc32 = _mm512_and_si512(_mm512_cvtepi8_epi32(sc8), _mm512_set1_epi32(0xffff));  // int16, low half
  UnpackedRowBlock u;
  unpack_two_bit_codes(blk, spread, sc32, u);
  const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
  offset_terms<NT, 2>(u, sc16, half_to_float(blk.d), x, b, terms);  // stored q + 4
}

template <int NT>
void q2_k_row(const BlockQ2_K* w, const BlockQ8_K* const* x, std::int64_t n_blocks, float* out) {
  __m512i spread[4];
  for (int g = 0; g < 4; ++g) spread[g] = spread_index(4 * g, 4);  // sub-blocks 4g .. 4g+3
  const auto terms = [&](std::int64_t b, BlockTerms* t) __attribute__((always_inline)) {
    q2_k_terms<NT>(w[b], x, b, spread, t);
  };
  row_in_block_pairs<NT>(w, n_blocks, terms, FoldWithMins{}, out);
}

template <int NT>
void q3_k_row(const BlockQ3_K* w, const BlockQ8_K* const* x, std::int64_t n_blocks, float* out) {
  __m512i spread[4];
  for (int g = 0; g < 4; ++g) spread[g] = spread_index(4 * g, 4);
  const auto terms = [&](std::int64_t b, BlockTerms* t) __attribute__((always_inline)) {
    q3_k_terms<NT>(w[b], x, b, spread, t);
  };
  row_in_block_pairs<NT>(w, n_blocks, terms, FoldOffset{}, out);
}

}  // namespace

void q2_k_q8_k_gemv(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  rows_by_token_groups<BlockQ2_K, q2_k_row<1>, q2_k_row<2>, q2_k_row<3>, q2_k_row<4>>(
      w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void q3_k_q8_k_gemv(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  rows_by_token_groups<BlockQ3_K, q3_k_row<1>, q3_k_row<2>, q3_k_row<3>, q3_k_row<4>>(
      w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void q4_k_q8_k_gemv(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  rows_by_token_groups<BlockQ4_K, q45_k_row<BlockQ4_K, 1>, q45_k_row<BlockQ4_K, 2>, q45_k_row<BlockQ4_K, 3>,
                       q45_k_row<BlockQ4_K, 4>>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void q5_k_q8_k_gemv(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  rows_by_token_groups<BlockQ5_K, q45_k_row<BlockQ5_K, 1>, q45_k_row<BlockQ5_K, 2>, q45_k_row<BlockQ5_K, 3>,
                       q45_k_row<BlockQ5_K, 4>>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void q6_k_q8_k_gemv(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  rows_by_token_groups<BlockQ6_K, q6_k_row<1>, q6_k_row<2>, q6_k_row<3>, q6_k_row<4>>(
      w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

}  // namespace autarky::avx512

// Q2_K and Q3_K weights repacked at load time into 16-row panels (MatmulKernel::pack /
// packed_rows), times Q8_K activations: the scheme of kquant_panels_avx512.cpp (why, and the
// shared loops, are there) for the two 2-bit-plane types.
//
// Why here too: decode of the file's rows unpacks every super-block of every row on its own
// (kquant_gemv_avx512.cpp, ~75 instructions per Q3_K block of 110 bytes), which bounded one core
// at ~18 GB/s in cache, below the DRAM rate a core can read. In a panel one load of 64 bytes
// and one shift serve 16 rows' codes, and the scales are unpacked for 16 rows at once.
//
// Layout: a super-block is its 16 rows' bytes transposed 4 at a time (vector v, lane r: bytes
// 4v .. 4v + 3 of row r's block), so each field keeps its place:
//   Q2_K, 21 vectors: 0-3: the 16 scale bytes (scale | min << 4) | 4-19: qs | 20: d, dmin.
//   Q3_K, 27 vectors: 0-7: hmask | 8-23: qs | 24-26: the 12 packed scale bytes; the fp16 d values
//     (16 per super-block, 32 bytes) go after all the panel's super-blocks (as Q6_K's).
// qs vector k (k < 16) holds qs[4k .. 4k + 3], i.e. bits 2s, 2s + 1 are the low bits of weights
// 128h + 32s + 4(k % 8) .. + 3 (h = k / 8); their Q3_K third bits are bit 4h + s of hmask vector
// k % 8.
//
// Results: the exact int32 totals of the row kernels and the same float steps per super-block,
// in block order: bit for bit the results of the kernels on the file's rows (tested).
//
// Compiled with AVX-512 flags: no inline functions of shared headers (see kernel_sets.h).

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

#include "kernels/x86_avx512/kquant_avx512.h"
#include "kernels/x86_avx512/kquant_tile_avx512.h"
#include "kernels/x86_avx512/legacy_panel_pack.h"
#include "kernels/x86_avx512/kquant_panel_loops_avx512.h"
#include "tensor/blocks.h"

namespace autarky::avx512 {

namespace {

constexpr int kCodeVectors = 16;  // qs: 64 bytes per row

// Bytes j and j + 1 of each int32 lane of v, zero-extended into its two int16 halves (vpdpwssd
// against a pair of bsums).
inline __m512i byte_pair_of_lanes(__m512i v, int j) {
  return _mm512_shuffle_epi8(v, _mm512_or_si512(_mm512_set1_epi32(static_cast<int>(0x80008000u) | j | (j + 1) << 16),
                                                _mm512_set4_epi32(0x000c000c, 0x00080008, 0x00040004, 0)));
}

// Bit `from` of every byte moved to bit 2 (the others cleared): Q3_K's third bit of a code.
inline __m512i bit_to_2(__m512i v, int from) {
  const __m512i moved = from < 2 ? _mm512_slli_epi16(v, 2 - from) : from > 2 ? _mm512_srli_epi16(v, from - 2) : v;
  return _mm512_and_si512(moved, _mm512_set1_epi8(0x04));
}

// The two types' shared steps. T is the traits class (Q2KPanels, Q3KPanels) with
//   codes(blk, k, s): qs vector k's field s as codes (Q3_K: with the third bit, 0..7);
//   Scales unpack_scales(blk): scale(j) the int16-in-int32 scale of sub-block j, 16 rows;
//   finish<NT>(panel, b, scales, x, sums, acc): the bsum term and the float step.
template <class T>
struct TwoBitPlanes {
  // acc[t] += super-block b of the 16 rows dotted with token t. Sub-blocks 8h + 2s + q (s < 4) are
  // qs vectors 8h + 4q + [0, 4) shifted by 2s: each vector is loaded once for its four fields.
  // A sub-block's dot product fits int16 (16 * 7 * 128), so vpdpwssd scales it exactly.
  template <int NT>
  __attribute__((always_inline)) static void add_block(const typename T::Panel& panel, std::int64_t b,
                                                       const BlockQ8_K* const* x, __m512* acc) {
    const std::uint8_t* blk = panel.block(b);
    const typename T::Scales sc = T::unpack_scales(blk);
    __m512i sums[NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) sums[t] = _mm512_setzero_si512();
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 2
      for (int q = 0; q < 2; ++q) {
        __m512i dot[NT][4];
#pragma GCC unroll 4
        for (int t = 0; t < NT; ++t) {
#pragma GCC unroll 4
          for (int s = 0; s < 4; ++s) dot[t][s] = _mm512_setzero_si512();
        }
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
          const int k = 8 * h + 4 * q + i;
#pragma GCC unroll 4
          for (int s = 0; s < 4; ++s) {
            const __m512i c = T::codes(blk, k, s);
            const int at = 128 * h + 32 * s + 16 * q + 4 * i;
#pragma GCC unroll 4
            for (int t = 0; t < NT; ++t) {
              dot[t][s] = _mm512_dpbusd_epi32(dot[t][s], c, _mm512_set1_epi32(four_bytes(x[t][b].qs + at)));
            }
          }
        }
#pragma GCC unroll 4
        for (int s = 0; s < 4; ++s) {
          const __m512i scale = sc.scale(8 * h + 2 * s + q);
#pragma GCC unroll 4
          for (int t = 0; t < NT; ++t) sums[t] = _mm512_dpwssd_epi32(sums[t], dot[t][s], scale);
        }
      }
    }
    T::template finish<NT>(panel, b, sc, x, sums, acc);
  }

  // Super-block b as the prompt micro-kernel takes it (codes, per-lane scales; T adds the rest).
  static void fill_codes(const std::uint8_t* blk, const typename T::Scales& sc, UnpackedBlock& u) {
    for (int k = 0; k < kCodeVectors; ++k) {
      for (int s = 0; s < 4; ++s) {
        // weights 128h + 32s + 4(k % 8) ..: u.q index 32h + 8s + k % 8
        _mm512_store_si512(u.q[32 * (k / 8) + 8 * s + k % 8], T::codes(blk, k, s));
      }
    }
    for (int j = 0; j < 16; ++j) _mm512_store_si512(u.scale[j], sc.scale(j));
  }
};

// ---- Q2_K ----

struct Q2KPanels {
  using Block = BlockQ2_K;
  using Panel = StoredPanel<21, 0>;
  static constexpr int kGroupWeights = 16;
  static constexpr int kInt16Pieces = 1;  // a sub-block's dot product fits int16: 16 * 3 * 128
  static constexpr bool kMinsApart = true;
  static constexpr int kCodes = 4, kScaleWords = 20;  // first qs vector; the d, dmin vector
  static constexpr int kTransposedBytes = offsetof(Block, d);  // scales, qs; pack_tail adds d, dmin
  static_assert(offsetof(Block, qs) == 16 && offsetof(Block, d) == 80 && offsetof(Block, dmin) == 82,
                "the transposes below follow the block layout");

  static __m512i codes(const std::uint8_t* blk, int k, int s) {
    const __m512i v = _mm512_loadu_si512(blk + (kCodes + k) * 64);
    return _mm512_and_si512(s == 0 ? v : _mm512_srli_epi16(v, 2 * s), _mm512_set1_epi8(0x03));
  }

  // Lane r of packed[v]: scale bytes 4v .. 4v + 3 of row r (low nibble scale, high nibble min).
  struct Scales {
    __m512i packed[4];
    __m512i scale(int j) const {  // int32 lanes, high half 0
      return _mm512_and_si512(byte_of_lanes(packed[j / 4], j % 4), _mm512_set1_epi32(0x0f));
    }
    __m512i min_pair(int p) const {  // the mins of sub-blocks 2p, 2p + 1 as the lane's two int16
      const __m512i mins = _mm512_and_si512(_mm512_srli_epi16(packed[p / 2], 4), _mm512_set1_epi8(0x0f));
      return byte_pair_of_lanes(mins, 2 * (p % 2));
    }
  };
  static Scales unpack_scales(const std::uint8_t* blk) {
    Scales s;
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) s.packed[v] = _mm512_loadu_si512(blk + v * 64);
    return s;
  }

  // S * (d dx) - M * (dmin dx), one FMS, as q2_k_row does per row.
  template <int NT>
  __attribute__((always_inline)) static void finish(const Panel& panel, std::int64_t b, const Scales& sc,
                                                    const BlockQ8_K* const* x, const __m512i* sums, __m512* acc) {
    const __m512i ds = _mm512_loadu_si512(panel.block(b) + kScaleWords * 64);
    const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(ds));
    const __m512 dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(ds, 16)));
    __m512i min_pairs[8];
#pragma GCC unroll 8
    for (int p = 0; p < 8; ++p) min_pairs[p] = sc.min_pair(p);
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      const __m512i mins_term = bsum_pairs_term(min_pairs, x[t][b]);
      const __m512 xd = _mm512_set1_ps(x[t][b].d);
      const __m512 mins = _mm512_mul_ps(_mm512_cvtepi32_ps(mins_term), _mm512_mul_ps(dmin, xd));
      acc[t] = _mm512_add_ps(acc[t], _mm512_fmsub_ps(_mm512_cvtepi32_ps(sums[t]), _mm512_mul_ps(d, xd), mins));
    }
  }

  template <int NT>
  __attribute__((always_inline)) static void add_block(const Panel& panel, std::int64_t b, const BlockQ8_K* const* x,
                                                       __m512* acc) {
    TwoBitPlanes<Q2KPanels>::add_block<NT>(panel, b, x, acc);
  }

  static void fill(const Panel& panel, std::int64_t b, UnpackedBlock& u) {
    const std::uint8_t* blk = panel.block(b);
    const Scales sc = unpack_scales(blk);
    TwoBitPlanes<Q2KPanels>::fill_codes(blk, sc, u);
    for (int p = 0; p < 8; ++p) _mm512_store_si512(u.mins[p], sc.min_pair(p));
    const __m512i ds = _mm512_loadu_si512(blk + kScaleWords * 64);
    _mm512_store_ps(u.d, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(ds)));
    _mm512_store_ps(u.dmin, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(ds, 16))));
  }

  // Vector 20: lane r = d, dmin of row r (the 4 bytes after the transposed ones).
  static void pack_tail(const PanelRows& rows, std::int64_t b, const Panel& panel) {
    auto* v = const_cast<std::uint8_t*>(panel.block(b)) + kScaleWords * 64;
    const std::int64_t at = b * static_cast<std::int64_t>(sizeof(Block)) + offsetof(Block, d);
    for (int r = 0; r < kPanelRows; ++r) std::memcpy(v + 4 * r, rows.row[r] + at, 4);
  }
};

// ---- Q3_K ----

struct Q3KPanels {
  using Block = BlockQ3_K;
  using Panel = StoredPanel<27, 32>;
  static constexpr int kGroupWeights = 16;
  static constexpr int kInt16Pieces = 1;   // a sub-block's dot product fits int16: 16 * 7 * 128
  static constexpr bool kMinsApart = false;  // the code offset 4 is part of the sum
  static constexpr int kCodes = 8, kScaleBytes = 24;  // first qs vector, first packed-scale vector
  static constexpr int kTransposedBytes = offsetof(Block, scales);  // hmask, qs; pack_tail adds the rest
  static_assert(offsetof(Block, qs) == 32 && offsetof(Block, scales) == 96 && offsetof(Block, d) == 108,
                "the transposes below follow the block layout");

  // Stored code q + 4 = low bits + 4 * third bit (tensor/blocks.h).
  static __m512i codes(const std::uint8_t* blk, int k, int s) {
    const __m512i v = _mm512_loadu_si512(blk + (kCodes + k) * 64);
    const __m512i low = _mm512_and_si512(s == 0 ? v : _mm512_srli_epi16(v, 2 * s), _mm512_set1_epi8(0x03));
    const __m512i hm = _mm512_loadu_si512(blk + (k % 8) * 64);
    return _mm512_or_si512(low, bit_to_2(hm, 4 * (k / 8) + s));
  }

  // Lane r of signed_scales[k]: the scales 4k .. 4k + 3 of row r as int8 (bias removed). From the
  // packed words a, b, c (bytes 0-3, 4-7, 8-11): low 4 bits from a's, b's, a's high, b's high
  // nibbles for k = 0, 1, 2, 3; top 2 bits from bits 2k, 2k + 1 of c's bytes.
  struct Scales {
    __m512i signed_scales[4];
    __m512i scale(int j) const {  // int16 in the low half of each lane, high half 0
      return _mm512_and_si512(signed_byte_of_lanes(signed_scales[j / 4], j % 4), _mm512_set1_epi32(0xffff));
    }
  };
  static Scales unpack_scales(const std::uint8_t* blk) {
    const __m512i a = _mm512_loadu_si512(blk + kScaleBytes * 64), b = _mm512_loadu_si512(blk + (kScaleBytes + 1) * 64);
    const __m512i c = _mm512_loadu_si512(blk + (kScaleBytes + 2) * 64);
    const __m512i nibble = _mm512_set1_epi8(0x0f), two_bits = _mm512_set1_epi8(0x03), bias = _mm512_set1_epi8(32);
    const __m512i low[4] = {_mm512_and_si512(a, nibble), _mm512_and_si512(b, nibble),
                            _mm512_and_si512(_mm512_srli_epi16(a, 4), nibble),
                            _mm512_and_si512(_mm512_srli_epi16(b, 4), nibble)};
    Scales s;
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const __m512i top = _mm512_and_si512(k == 0 ? c : _mm512_srli_epi16(c, 2 * k), two_bits);
      s.signed_scales[k] = _mm512_sub_epi8(_mm512_or_si512(low[k], _mm512_slli_epi16(top, 4)), bias);
    }
    return s;
  }

  // (S - M) * (d dx), one FMA, as q3_k_row does per row: M = 4 * sum of scale * bsum.
  template <int NT>
  __attribute__((always_inline)) static void finish(const Panel& panel, std::int64_t b, const Scales& sc,
                                                    const BlockQ8_K* const* x, const __m512i* sums, __m512* acc) {
    const SignedScalePairs scale_pairs(sc.signed_scales);
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel.tail(b))));
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      const __m512i offset = scale_pairs.dot_bsums(x[t][b]);
      const __m512i total = _mm512_sub_epi32(sums[t], _mm512_slli_epi32(offset, 2));  // stored q is q + 4
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), _mm512_mul_ps(d, _mm512_set1_ps(x[t][b].d)), acc[t]);
    }
  }

  template <int NT>
  __attribute__((always_inline)) static void add_block(const Panel& panel, std::int64_t b, const BlockQ8_K* const* x,
                                                       __m512* acc) {
    TwoBitPlanes<Q3KPanels>::add_block<NT>(panel, b, x, acc);
  }

  static void fill(const Panel& panel, std::int64_t b, UnpackedBlock& u) {
    const std::uint8_t* blk = panel.block(b);
    const Scales sc = unpack_scales(blk);
    TwoBitPlanes<Q3KPanels>::fill_codes(blk, sc, u);
    store_offset_pairs<2>(sc.signed_scales, u);  // stored q is q + 4
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel.tail(b))));
    _mm512_store_ps(u.d, d);
    _mm512_store_ps(u.dmin, d);
  }

  // Vectors 24-26: the 12 packed scale bytes, 4 per lane (not a multiple of 16 bytes, so not
  // transposed with the rest: that would read past the last row); the tail: d.
  static void pack_tail(const PanelRows& rows, std::int64_t b, const Panel& panel) {
    auto* blk = const_cast<std::uint8_t*>(panel.block(b));
    const std::int64_t at = b * static_cast<std::int64_t>(sizeof(Block));
    for (int v = 0; v < 3; ++v) {
      for (int r = 0; r < kPanelRows; ++r) {
        std::memcpy(blk + (kScaleBytes + v) * 64 + 4 * r, rows.row[r] + at + offsetof(Block, scales) + 4 * v, 4);
      }
    }
    auto* d = const_cast<std::uint8_t*>(panel.tail(b));
    for (int r = 0; r < kPanelRows; ++r) std::memcpy(d + 2 * r, rows.row[r] + at + offsetof(Block, d), 2);
  }
};

}  // namespace

void q2_k_q8_k_stored(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  stored_rows<Q2KPanels>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}
void q2_k_pack_panels(const WeightMatrix& w, std::uint8_t* out, std::int64_t row_begin, std::int64_t row_end) {
  pack_panels<Q2KPanels>(w, out, row_begin, row_end);
}
void q3_k_q8_k_stored(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  stored_rows<Q3KPanels>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}
void q3_k_pack_panels(const WeightMatrix& w, std::uint8_t* out, std::int64_t row_begin, std::int64_t row_end) {
  pack_panels<Q3KPanels>(w, out, row_begin, row_end);
}

}  // namespace autarky::avx512

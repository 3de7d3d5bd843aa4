// Q4_K, Q5_K and Q6_K weights repacked at load time into 16-row panels (MatmulKernel::pack /
// packed_rows), times Q8_K activations.
//
// Why: decode of the file's rows (kquant_gemv_avx512.cpp) unpacks every super-block of every row
// on its own, ~55 instructions per row and super-block for Q4_K, and on an AMD Zen 4 core that
// work, not DRAM, bounded Q4_K decode. In a panel the 16 rows' bytes at each offset lie side by
// side, so one 64-byte load and one vpdpbusd serve 16 rows (one row per int32 lane, the prompt
// micro-kernel's layout) and scales are unpacked for 16 rows at once, with no horizontal sums.
//
// Layout: a panel is the 16 rows' super-blocks in order, 16 x sizeof(block) bytes each, so the
// matrix keeps its size. A super-block is its rows' bytes transposed 4 at a time: vector v (64
// bytes) holds in lane r the bytes 4v .. 4v + 3 of row r's block, so every field keeps its place
// (field at byte offset o: vectors from o / 4):
//   Q4_K, 36 vectors:  0: d, dmin | 1-3: the 12 scale and min bytes (words a, b, c of
//     tensor/blocks.h) | 4 + 8g + k: qs[32g + 4k ..], i.e. weights 64g + 4k .. + 3 in the low
//     nibbles (sub-block 2g) and 64g + 32 + 4k .. in the high ones (sub-block 2g + 1).
//   Q5_K, 44 vectors:  the same, with qh in vectors 4-11 and qs from 12.
//   Q6_K, 52 vectors:  0-31: ql | 32-47: qh | 48-51: the 16 int8 scales; the fp16 d values (16 per
//     super-block, 32 bytes) go after all the panel's super-blocks, keeping those 64-byte aligned.
// A last panel with fewer than 16 rows repeats its last row; those lanes are never stored.
//
// Results: the exact int32 totals of the row kernels (scaled sub-block sums, and the mins or the
// -32 offset against the Q8_K bsums) and the same float steps per super-block, in block order:
// bit for bit the results of the kernels on the file's rows (tested).
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

// ---- Q4_K, Q5_K ----

template <typename BlockT>
struct Q45KPanels {
  using Block = BlockT;
  static constexpr bool kFifthBit = std::is_same_v<Block, BlockQ5_K>;
  using Panel = StoredPanel<sizeof(Block) / 4, 0>;
  static constexpr int kGroupWeights = 32;          // weights per sub-block scale
  static constexpr int kInt16Pieces = kFifthBit ? 0 : 2;  // Q4_K's half sub-blocks fit int16: see add_block
  static constexpr bool kMinsApart = true;
  static constexpr int kHighBits = offsetof(BlockQ5_K, qh) / 4;  // first qh vector (Q5_K)
  static constexpr int kCodes = offsetof(Block, qs) / 4;
  static constexpr int kTransposedBytes = sizeof(Block);

  // The 16 rows' sub-block scales and mins, each byte one 6-bit value: lane r of scales[0] holds
  // scales 0-3 of row r, scales[1] scales 4-7; mins likewise (tensor/blocks.h, 16 rows at once).
  struct Scales {
    __m512i scales[2], mins[2];
    __m512 d, dmin;
  };

  static Scales unpack_scales(const std::uint8_t* blk) {
    const __m512i ds = _mm512_loadu_si512(blk);
    const __m512i a = _mm512_loadu_si512(blk + 64), b = _mm512_loadu_si512(blk + 128), c = _mm512_loadu_si512(blk + 192);
    const __m512i six_bits = _mm512_set1_epi8(0x3f), low_nibble = _mm512_set1_epi8(0x0f), bits_45 = _mm512_set1_epi8(0x30);
    Scales s;
    s.scales[0] = _mm512_and_si512(a, six_bits);
    s.scales[1] = _mm512_or_si512(_mm512_and_si512(c, low_nibble), _mm512_and_si512(_mm512_srli_epi32(a, 2), bits_45));
    s.mins[0] = _mm512_and_si512(b, six_bits);
    s.mins[1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(c, 4), low_nibble),
                                _mm512_and_si512(_mm512_srli_epi32(b, 2), bits_45));
    s.d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(ds));
    s.dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(ds, 16)));
    return s;
  }

  // Bit `from` of every byte moved to bit 4 (the others cleared): the fifth bit of a code.
  static __m512i bit_to_4(__m512i v, int from) {
    const __m512i moved = from < 4 ? _mm512_slli_epi16(v, 4 - from) : from > 4 ? _mm512_srli_epi16(v, from - 4) : v;
    return _mm512_and_si512(moved, _mm512_set1_epi8(0x10));
  }

  // Code vector 8g + k as codes: low nibbles are weights 64g + 4k .. + 3 (sub-block 2g), high
  // nibbles 64g + 32 + 4k .. (sub-block 2g + 1); Q5_K's fifth bits are bits 2g and 2g + 1 of the
  // qh bytes 4k .., which lie in qh vector k.
  struct CodePair {
    __m512i low, high;
  };
  static CodePair codes(const std::uint8_t* blk, int g, int k) {
    const __m512i low_nibble = _mm512_set1_epi8(0x0f);
    const __m512i v = _mm512_loadu_si512(blk + (kCodes + 8 * g + k) * 64);
    CodePair c{_mm512_and_si512(v, low_nibble), _mm512_and_si512(_mm512_srli_epi16(v, 4), low_nibble)};
    if constexpr (kFifthBit) {
      const __m512i qh = _mm512_loadu_si512(blk + (kHighBits + k) * 64);
      c.low = _mm512_or_si512(c.low, bit_to_4(qh, 2 * g));
      c.high = _mm512_or_si512(c.high, bit_to_4(qh, 2 * g + 1));
    }
    return c;
  }

  // acc[t] += super-block b of the panel's 16 rows dotted with token t: the exact totals S and M
  // of q45_k_row, then S * (d dx) - M * (dmin dx) in one FMS. Q4_K: half a sub-block's dot
  // product (16 weights, at most 16 * 15 * 128) fits int16, so vpdpwssd against the scale (high
  // half of its lane 0) scales it exactly, as the prompt micro-kernel does; Q5_K's codes go to
  // 31, so its whole sub-block sums are scaled with vpmulld.
  template <int NT>
  __attribute__((always_inline)) static void add_block(const Panel& panel, std::int64_t b, const BlockQ8_K* const* x,
                                                       __m512* acc) {
    const std::uint8_t* blk = panel.block(b);
    const Scales s = unpack_scales(blk);
    constexpr int kPieces = kInt16Pieces > 0 ? kInt16Pieces : 1, kPieceSteps = 8 / kPieces;
    __m512i sums[NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) sums[t] = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
      const __m512i scale_low = byte_of_lanes(s.scales[g / 2], (2 * g) % 4);       // sub-block 2g
      const __m512i scale_high = byte_of_lanes(s.scales[g / 2], (2 * g + 1) % 4);  // sub-block 2g + 1
#pragma GCC unroll 2
      for (int piece = 0; piece < kPieces; ++piece) {
        __m512i dot_low[NT], dot_high[NT];
#pragma GCC unroll 4
        for (int t = 0; t < NT; ++t) dot_low[t] = dot_high[t] = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int k = piece * kPieceSteps; k < (piece + 1) * kPieceSteps; ++k) {
          const CodePair c = codes(blk, g, k);
          const int at = 64 * g + 4 * k;  // the low nibbles' first weight
#pragma GCC unroll 4
          for (int t = 0; t < NT; ++t) {
            dot_low[t] = _mm512_dpbusd_epi32(dot_low[t], c.low, _mm512_set1_epi32(four_bytes(x[t][b].qs + at)));
            dot_high[t] = _mm512_dpbusd_epi32(dot_high[t], c.high, _mm512_set1_epi32(four_bytes(x[t][b].qs + at + 32)));
          }
        }
#pragma GCC unroll 4
        for (int t = 0; t < NT; ++t) {
          if constexpr (kInt16Pieces > 0) {
            sums[t] = _mm512_dpwssd_epi32(sums[t], dot_low[t], scale_low);
            sums[t] = _mm512_dpwssd_epi32(sums[t], dot_high[t], scale_high);
          } else {
            sums[t] = _mm512_add_epi32(sums[t], _mm512_mullo_epi32(dot_low[t], scale_low));
            sums[t] = _mm512_add_epi32(sums[t], _mm512_mullo_epi32(dot_high[t], scale_high));
          }
        }
      }
    }
    __m512i min_pairs[8];  // sub-block j's min in both halves: against bsums 2j, 2j + 1
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) min_pairs[j] = byte_of_lanes_twice(s.mins[j / 4], j % 4);
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      const __m512i mins_term = bsum_pairs_term(min_pairs, x[t][b]);
      const __m512 xd = _mm512_set1_ps(x[t][b].d);
      const __m512 mins = _mm512_mul_ps(_mm512_cvtepi32_ps(mins_term), _mm512_mul_ps(s.dmin, xd));
      acc[t] = _mm512_add_ps(acc[t], _mm512_fmsub_ps(_mm512_cvtepi32_ps(sums[t]), _mm512_mul_ps(s.d, xd), mins));
    }
  }

  // Super-block b of the panel as the prompt micro-kernel takes it: a few logic ops per 64
  // bytes, where the file's rows need a scatter of every row.
  static void fill(const Panel& panel, std::int64_t b, UnpackedBlock& u) {
    const std::uint8_t* blk = panel.block(b);
    const Scales s = unpack_scales(blk);
    for (int g = 0; g < 4; ++g) {
      for (int k = 0; k < 8; ++k) {
        const CodePair c = codes(blk, g, k);
        _mm512_store_si512(u.q[16 * g + k], c.low);
        _mm512_store_si512(u.q[16 * g + 8 + k], c.high);
      }
    }
    for (int j = 0; j < 8; ++j) {
      _mm512_store_si512(u.scale[j], byte_of_lanes(s.scales[j / 4], j % 4));
      _mm512_store_si512(u.mins[j], byte_of_lanes_twice(s.mins[j / 4], j % 4));
    }
    _mm512_store_ps(u.d, s.d);
    _mm512_store_ps(u.dmin, s.dmin);
  }

  static void pack_tail(const PanelRows&, std::int64_t, const Panel&) {}
};

// ---- Q6_K ----

struct Q6KPanels {
  using Block = BlockQ6_K;
  using Panel = StoredPanel<52, 32>;
  static constexpr int kGroupWeights = 16;
  static constexpr int kInt16Pieces = 0;
  static constexpr bool kMinsApart = false;  // the -32 offset is part of the sum
  static constexpr int kHigh = 32, kScales = 48;  // first qh / scale vector (ql from 0)
  static_assert(offsetof(Block, qh) == 128 && offsetof(Block, scales) == 192 && offsetof(Block, d) == 208,
                "the transposes below follow the block layout");

  // The four 6-bit codes that share ql vector k (k < 16) of half h and its qh vector: low nibbles
  // are weights 128h + 4k .., high nibbles 128h + 64 + 4k ..; qh bits 0-1 / 4-5 top them for
  // k < 8, bits 2-3 / 6-7 for k >= 8 (tensor/blocks.h). Returns [low, high].
  struct CodePair {
    __m512i low, high;
  };
  static CodePair codes(const std::uint8_t* blk, int h, int k) {
    const __m512i nibble = _mm512_set1_epi8(0x0f), top = _mm512_set1_epi8(0x30);
    const __m512i ql = _mm512_loadu_si512(blk + (16 * h + k) * 64);
    const __m512i qh = _mm512_loadu_si512(blk + (kHigh + 8 * h + k % 8) * 64);
    const __m512i qh_low = k < 8 ? _mm512_slli_epi16(qh, 4) : _mm512_slli_epi16(qh, 2);   // bits 0-1 / 2-3 to 4-5
    const __m512i qh_high = k < 8 ? qh : _mm512_srli_epi16(qh, 2);                        // bits 4-5 / 6-7 to 4-5
    return {_mm512_or_si512(_mm512_and_si512(ql, nibble), _mm512_and_si512(qh_low, top)),
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), nibble), _mm512_and_si512(qh_high, top))};
  }

  // acc[t] += (S - M) * (d dx), the exact totals of q6_k_row: S = sum over the 16 sub-blocks of
  // scale * dot product (vpmulld: 16 weights' dot product exceeds int16), M = 32 * sum of scale *
  // bsum (vpdpwssd with the scales split into even and odd int16 halves, and the bsums ordered to
  // match).
  template <int NT>
  __attribute__((always_inline)) static void add_block(const Panel& panel, std::int64_t b, const BlockQ8_K* const* x,
                                                       __m512* acc) {
    const std::uint8_t* blk = panel.block(b);
    __m512i sc[4];
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) sc[v] = _mm512_loadu_si512(blk + (kScales + v) * 64);
    __m512i sums[NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) sums[t] = _mm512_setzero_si512();
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 2
      for (int quarter = 0; quarter < 2; ++quarter) {
        // ql vectors k and k + 8 for k in 4 * quarter + [0, 4): sub-blocks 8h + quarter + {0, 2, 4, 6}.
        __m512i dot[NT][4];
#pragma GCC unroll 4
        for (int t = 0; t < NT; ++t) {
#pragma GCC unroll 4
          for (int i = 0; i < 4; ++i) dot[t][i] = _mm512_setzero_si512();
        }
#pragma GCC unroll 4
        for (int k = 4 * quarter; k < 4 * quarter + 4; ++k) {
          const CodePair first = codes(blk, h, k), second = codes(blk, h, k + 8);
          const int at = 128 * h + 4 * k;  // the first low nibbles' first weight
#pragma GCC unroll 4
          for (int t = 0; t < NT; ++t) {
            const std::int8_t* a = x[t][b].qs + at;
            dot[t][0] = _mm512_dpbusd_epi32(dot[t][0], first.low, _mm512_set1_epi32(four_bytes(a)));
            dot[t][1] = _mm512_dpbusd_epi32(dot[t][1], second.low, _mm512_set1_epi32(four_bytes(a + 32)));
            dot[t][2] = _mm512_dpbusd_epi32(dot[t][2], first.high, _mm512_set1_epi32(four_bytes(a + 64)));
            dot[t][3] = _mm512_dpbusd_epi32(dot[t][3], second.high, _mm512_set1_epi32(four_bytes(a + 96)));
          }
        }
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
          const int j = 8 * h + quarter + 2 * i;  // sub-block of dot[.][i]
          const __m512i scale = signed_byte_of_lanes(sc[j / 4], j % 4);
#pragma GCC unroll 4
          for (int t = 0; t < NT; ++t) sums[t] = _mm512_add_epi32(sums[t], _mm512_mullo_epi32(dot[t][i], scale));
        }
      }
    }
    const SignedScalePairs scale_pairs(sc);
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel.tail(b))));
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      const __m512i offset = scale_pairs.dot_bsums(x[t][b]);
      const __m512i total = _mm512_sub_epi32(sums[t], _mm512_slli_epi32(offset, 5));  // stored q is q + 32
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), _mm512_mul_ps(d, _mm512_set1_ps(x[t][b].d)), acc[t]);
    }
  }

  static void fill(const Panel& panel, std::int64_t b, UnpackedBlock& u) {
    const std::uint8_t* blk = panel.block(b);
    for (int h = 0; h < 2; ++h) {
      for (int k = 0; k < 16; ++k) {
        const CodePair c = codes(blk, h, k);
        _mm512_store_si512(u.q[32 * h + k], c.low);        // weights 128h + 4k ..
        _mm512_store_si512(u.q[32 * h + 16 + k], c.high);  // weights 128h + 64 + 4k ..
      }
    }
    __m512i sc[4];
    for (int v = 0; v < 4; ++v) {
      sc[v] = _mm512_loadu_si512(blk + (kScales + v) * 64);
      for (int i = 0; i < 4; ++i) _mm512_store_si512(u.scale[4 * v + i], signed_byte_of_lanes(sc[v], i));
    }
    store_offset_pairs<5>(sc, u);  // stored q is q + 32
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel.tail(b))));
    _mm512_store_ps(u.d, d);
    _mm512_store_ps(u.dmin, d);
  }

  static constexpr int kTransposedBytes = offsetof(Block, d);  // ql, qh, scales; d goes to the tail

  static void pack_tail(const PanelRows& rows, std::int64_t b, const Panel& panel) {
    auto* d = const_cast<std::uint8_t*>(panel.tail(b));
    const std::int64_t at = b * static_cast<std::int64_t>(sizeof(Block)) + offsetof(Block, d);
    for (int r = 0; r < kPanelRows; ++r) std::memcpy(d + 2 * r, rows.row[r] + at, 2);
  }
};

}  // namespace

void q4_k_q8_k_stored(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  stored_rows<Q45KPanels<BlockQ4_K>>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}
void q4_k_pack_panels(const WeightMatrix& w, std::uint8_t* out, std::int64_t row_begin, std::int64_t row_end) {
  pack_panels<Q45KPanels<BlockQ4_K>>(w, out, row_begin, row_end);
}
void q5_k_q8_k_stored(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  stored_rows<Q45KPanels<BlockQ5_K>>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}
void q5_k_pack_panels(const WeightMatrix& w, std::uint8_t* out, std::int64_t row_begin, std::int64_t row_end) {
  pack_panels<Q45KPanels<BlockQ5_K>>(w, out, row_begin, row_end);
}
void q6_k_q8_k_stored(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  stored_rows<Q6KPanels>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}
void q6_k_pack_panels(const WeightMatrix& w, std::uint8_t* out, std::int64_t row_begin, std::int64_t row_end) {
  pack_panels<Q6KPanels>(w, out, row_begin, row_end);
}

}  // namespace autarky::avx512

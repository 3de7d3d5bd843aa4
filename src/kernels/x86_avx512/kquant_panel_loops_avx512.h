#pragma once
// The parts of the K-quant stored panels (16 rows repacked at load time, MatmulKernel::pack)
// that every type shares: a panel's addressing, lane-wise byte picks, the decode loop over panels,
// the dispatch between it and the prompt micro-kernel (kquant_tile_avx512.h), and the packing
// loop. Each type is a traits class P (kquant_panels_avx512.cpp: Q4_K, Q5_K, Q6_K;
// kquant_panels_q23_avx512.cpp: Q2_K, Q3_K) with Block, Panel, kGroupWeights, kInt16Pieces,
// kMinsApart, kTransposedBytes, add_block<NT> (decode), fill (prompt tiles) and pack_tail.
//
// Everything here is in an anonymous namespace on purpose: each including kernel file gets its
// own copy compiled with its own flags, which the linker must never merge (see kernel_sets.h).
// Requires <immintrin.h>, AVX-512 F/BW/VNNI flags, kquant_tile_avx512.h and legacy_panel_pack.h
// in the includer.

#include <cstdint>

#include "kernels/weight_matrix.h"
#include "tensor/blocks.h"

namespace autarky {
namespace {

static_assert(kPanelRows == kTileRows, "a stored panel is one micro-kernel tile");

// One panel of a repacked matrix: super-blocks of kBlockVectors vectors, then kTailBytes per
// super-block (Q6_K's d values).
template <int kBlockVectors, int kTailBytes>
struct StoredPanel {
  static constexpr std::uint64_t kBlockBytes = kBlockVectors * 64;
  static constexpr std::uint64_t kBytesPerBlock = kBlockBytes + kTailBytes;  // = 16 rows' blocks
  const std::uint8_t* first;
  std::int64_t nb;

  StoredPanel(const std::uint8_t* data, std::uint64_t row_bytes, std::int64_t panel, std::int64_t n_blocks)
      : first(data + static_cast<std::uint64_t>(panel) * kPanelRows * row_bytes), nb(n_blocks) {}

  const std::uint8_t* block(std::int64_t b) const { return first + static_cast<std::uint64_t>(b) * kBlockBytes; }
  const std::uint8_t* tail(std::int64_t b) const { return block(nb) + b * kTailBytes; }

  // The tail is a second stream, read one line every few super-blocks from the panel's end: the
  // prefetch ahead of the blocks reaches it only at the panel's last blocks, so each of its lines
  // would be a full DRAM miss (Q6_K: one per two super-blocks). Fetched whole, a panel early.
  __attribute__((always_inline)) void prefetch_tail() const {
    if constexpr (kTailBytes > 0) {
      const char* t = reinterpret_cast<const char*>(tail(0));
      for (std::int64_t off = 0; off < nb * kTailBytes; off += 64) _mm_prefetch(t + off, _MM_HINT_T0);
    }
  }
};

// Byte j of each int32 lane of v, zero-extended (one vpshufb; its byte indices are per 128-bit
// lane, so lane p of each takes byte 4p + j).
inline __m512i byte_of_lanes(__m512i v, int j) {
  return _mm512_shuffle_epi8(v, _mm512_or_si512(_mm512_set1_epi32(static_cast<int>(0x80808000u) | j),
                                                _mm512_set4_epi32(12, 8, 4, 0)));
}

// The same byte in both int16 halves of each lane, for vpdpwssd against a pair of bsums.
inline __m512i byte_of_lanes_twice(__m512i v, int j) {
  return _mm512_shuffle_epi8(v, _mm512_or_si512(_mm512_set1_epi32(static_cast<int>(0x80008000u) | j | j << 16),
                                                _mm512_set4_epi32(0x000c000c, 0x00080008, 0x00040004, 0)));
}

// Byte j of each int32 lane of v, sign-extended.
inline __m512i signed_byte_of_lanes(__m512i v, int j) {
  return _mm512_srai_epi32(j == 3 ? v : _mm512_slli_epi32(v, 24 - 8 * j), 24);
}

// One token's bsum term for 16 rows, exact: lane r = sum over p of the int16 pair p of lane r
// (pairs[p]: the weights of bsums 2p, 2p + 1, e.g. two sub-blocks' mins) dotted with those bsums.
inline __m512i bsum_pairs_term(const __m512i* pairs, const BlockQ8_K& a) {
  __m512i term = _mm512_setzero_si512();
#pragma GCC unroll 8
  for (int p = 0; p < 8; ++p) term = _mm512_dpwssd_epi32(term, pairs[p], _mm512_set1_epi32(four_bytes(a.bsums + 2 * p)));
  return term;
}

// The 16 signed int8 sub-block scales of 16 rows (lane r of sc[v]: scales 4v .. 4v + 3 of row r;
// Q3_K, Q6_K) as int16 pairs for vpdpwssd against the bsums: even[v] lane r = (scale 4v,
// scale 4v + 2), odd[v] = (4v + 1, 4v + 3).
struct SignedScalePairs {
  __m512i even[4], odd[4];

  explicit SignedScalePairs(const __m512i* sc) {
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      even[v] = _mm512_srai_epi16(_mm512_slli_epi16(sc[v], 8), 8);
      odd[v] = _mm512_srai_epi16(sc[v], 8);
    }
  }

  // Lane r: sum over the 16 sub-blocks of scale * bsum, exact.
  __m512i dot_bsums(const BlockQ8_K& a) const {
    const __m256i pair_order = _mm256_setr_epi8(0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15,
                                                0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15);
    alignas(32) std::int32_t pairs[8];  // bsums as int16 pairs [(0, 2), (1, 3), (4, 6), (5, 7), ...]
    _mm256_store_si256(reinterpret_cast<__m256i*>(pairs),
                       _mm256_shuffle_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums)), pair_order));
    __m512i offset = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      offset = _mm512_dpwssd_epi32(offset, even[v], _mm512_set1_epi32(pairs[2 * v]));
      offset = _mm512_dpwssd_epi32(offset, odd[v], _mm512_set1_epi32(pairs[2 * v + 1]));
    }
    return offset;
  }
};

// The prompt tile's bsum weights of a type whose codes are stored as q + 2^kShift: mins[p] lane
// r = 2^kShift x (scale 2p, scale 2p + 1) of row r, as int16 (sc as in SignedScalePairs). Rows
// 0-7 come from the low half, 8-15 from the high half, each row's two pairs in adjacent lanes,
// then split.
template <int kShift>
inline void store_offset_pairs(const __m512i* sc, UnpackedBlock& u) {
  const __m512i first = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i second = _mm512_add_epi32(first, _mm512_set1_epi32(1));
  for (int v = 0; v < 4; ++v) {
    const __m512i lo = _mm512_cvtepi8_epi16(_mm512_castsi512_si256(sc[v]));
    const __m512i hi = _mm512_cvtepi8_epi16(_mm512_extracti64x4_epi64(sc[v], 1));
    _mm512_store_si512(u.mins[2 * v], _mm512_slli_epi16(_mm512_permutex2var_epi32(lo, first, hi), kShift));
    _mm512_store_si512(u.mins[2 * v + 1], _mm512_slli_epi16(_mm512_permutex2var_epi32(lo, second, hi), kShift));
  }
}


// ---- the loops, for every type ----

// Decode and small batches: NT tokens, each panel read once, front to back, straight from memory
// to vpdpbusd; acc[t] lane r is row r's output for token t.
template <class P, int NT>
void panel_rows_tokens(const WeightMatrix& w, const BlockQ8_K* const* x, float* y, std::int64_t y_stride,
                       std::int64_t row_begin, std::int64_t row_end) {
  using Panel = typename P::Panel;
  const std::int64_t nb = w.n_in / kQK_K;
  const std::uint8_t* range_end = Panel(w.data, w.row_bytes, (row_end + kPanelRows - 1) / kPanelRows, nb).first;
  for (std::int64_t r0 = row_begin; r0 < row_end; r0 += kPanelRows) {
    const int n_valid = static_cast<int>(row_end - r0 < kPanelRows ? row_end - r0 : kPanelRows);
    const Panel panel(w.data, w.row_bytes, r0 / kPanelRows, nb);
    if (r0 == row_begin) panel.prefetch_tail();
    if (r0 + kPanelRows < row_end) Panel(w.data, w.row_bytes, r0 / kPanelRows + 1, nb).prefetch_tail();
    __m512 acc[NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
    for (std::int64_t b = 0; b < nb; ++b) {
      prefetch_stored_ahead(panel.block(b), Panel::kBlockBytes, range_end);
      P::template add_block<NT>(panel, b, x, acc);
    }
    const auto lanes = static_cast<__mmask16>((1u << n_valid) - 1);
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) _mm512_mask_storeu_ps(y + t * y_stride + r0, lanes, acc[t]);
  }
}

template <class P>
void stored_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                 float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  const std::int64_t nb = w.n_in / kQK_K;
  if (n_tokens >= kMinGemmTokens) {  // prompts: the micro-kernel, tiles unpacked from the panels
    const auto fill = [&w, nb](std::int64_t o0, int, std::int64_t b0, int n, UnpackedBlock* u) {
      const typename P::Panel panel(w.data, w.row_bytes, o0 / kPanelRows, nb);
      for (int i = 0; i < n; ++i) P::fill(panel, b0 + i, u[i]);
    };
    gemm_tiles<P::kGroupWeights, P::kInt16Pieces, P::kMinsApart>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end, fill);
    return;
  }
  for (std::int64_t t0 = 0; t0 < n_tokens; t0 += 4) {
    const BlockQ8_K* xs[4];
    const std::int64_t nt = n_tokens - t0 < 4 ? n_tokens - t0 : 4;
    for (std::int64_t t = 0; t < nt; ++t)
      xs[t] = reinterpret_cast<const BlockQ8_K*>(x + static_cast<std::uint64_t>(t0 + t) * x_row_bytes);
    float* yt = y + t0 * y_stride;
    switch (nt) {
      case 1: panel_rows_tokens<P, 1>(w, xs, yt, y_stride, row_begin, row_end); break;
      case 2: panel_rows_tokens<P, 2>(w, xs, yt, y_stride, row_begin, row_end); break;
      case 3: panel_rows_tokens<P, 3>(w, xs, yt, y_stride, row_begin, row_end); break;
      default: panel_rows_tokens<P, 4>(w, xs, yt, y_stride, row_begin, row_end); break;
    }
  }
}

// Rows [row_begin, row_end) (row_begin a multiple of 16) of w into panels at `out`: each
// super-block's first kTransposedBytes bytes as 16x4-byte transposes, in order, then the tail.
template <class P>
void pack_panels(const WeightMatrix& w, std::uint8_t* out, std::int64_t row_begin, std::int64_t row_end) {
  using Panel = typename P::Panel;
  static_assert(Panel::kBytesPerBlock == kPanelRows * sizeof(typename P::Block), "a panel keeps the rows' size");
  static_assert(P::kTransposedBytes % 16 == 0 && P::kTransposedBytes * kPanelRows <= Panel::kBlockBytes,
                "the transposes fit in the super-block's vectors (pack_tail writes the rest)");
  const std::int64_t nb = w.n_in / kQK_K;
  for (std::int64_t r0 = row_begin; r0 < row_end; r0 += kPanelRows) {
    const int n_valid = static_cast<int>(w.n_out - r0 < kPanelRows ? w.n_out - r0 : kPanelRows);
    const PanelRows rows(w.row(r0), w.row_bytes, n_valid, nb);
    const Panel panel(out, w.row_bytes, r0 / kPanelRows, nb);
    for (std::int64_t b = 0; b < nb; ++b) {
      auto* blk = const_cast<std::uint8_t*>(panel.block(b));
      const std::int64_t at = b * static_cast<std::int64_t>(sizeof(typename P::Block));
      for (int j = 0; j < P::kTransposedBytes / 16; ++j) {
        __m512i q[4];
        transpose_16x4(rows.row, at + 16 * j, q);
        for (int i = 0; i < 4; ++i) _mm512_storeu_si512(blk + (4 * j + i) * 64, q[i]);
      }
      P::pack_tail(rows, b, panel);
    }
  }
}


}  // namespace
}  // namespace autarky

#pragma once
// Repacking of 16 rows of a 32-weight "legacy" block type (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1) into the
// layout of 4-byte groups that both vpdpbusd (x86_avx512/legacy_quant_avx512.cpp) and the AMX
// tile multiply (x86_amx) consume: for block b and k in 0..7, one 64-byte vector whose lane r
// holds the 4 weights 4k..4k+3 of row r. Codes are either unsigned (u = q + c, with the per-type
// offset c, for vpdpbusd's unsigned operand) or the signed values q themselves.
//
// Everything here is in an anonymous namespace on purpose: each including kernel file gets its
// own copy compiled with its own flags, which the linker must never merge (see kernel_sets.h).
// Requires <immintrin.h> and AVX-512 F/BW flags in the includer.

#include <cstdint>
#include <cstring>

#include "tensor/blocks.h"

namespace autarky {
namespace {

constexpr int kPanelRows = 16;  // one zmm of int32 / float lanes

// Per-type layout and code offset. Offsets are in bytes inside one block.
struct Q8_0Layout {
  static constexpr int kBytes = sizeof(BlockQ8_0), kQs = 2, kMin = -1, kQh = -1, kOffset = 128;
  static constexpr bool kNibbles = false;
};
struct Q4_0Layout {
  static constexpr int kBytes = sizeof(BlockQ4_0), kQs = 2, kMin = -1, kQh = -1, kOffset = 8;
  static constexpr bool kNibbles = true;
};
struct Q4_1Layout {
  static constexpr int kBytes = sizeof(BlockQ4_1), kQs = 4, kMin = 2, kQh = -1, kOffset = 0;
  static constexpr bool kNibbles = true;
};
struct Q5_0Layout {
  static constexpr int kBytes = sizeof(BlockQ5_0), kQs = 6, kMin = -1, kQh = 2, kOffset = 16;
  static constexpr bool kNibbles = true;
};
struct Q5_1Layout {
  static constexpr int kBytes = sizeof(BlockQ5_1), kQs = 8, kMin = 2, kQh = 4, kOffset = 0;
  static constexpr bool kNibbles = true;
};

inline std::int32_t load_i32(const void* p) {
  std::int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// 16 bytes at the same offset of 16 rows, transposed: q[k] lane r = bytes 4k..4k+3 of row r.
// Inserts put rows p, p+4, p+8, p+12 in the four 128-bit lanes of z[p]; a 4x4 dword transpose
// inside each 128-bit lane (unpack 32, then 64) then leaves row 4j+i in dword lane 4j+i.
// 12 inserts + 8 shuffles per 16 rows, several times cheaper than four 16-lane gathers.
inline void transpose_16x4(const std::uint8_t* const* rows, std::int64_t offset, __m512i q[4]) {
  __m512i z[4];
#pragma GCC unroll 8
  for (int p = 0; p < 4; ++p) {
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[p] + offset)));
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[p + 4] + offset)), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[p + 8] + offset)), 2);
    z[p] = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[p + 12] + offset)), 3);
  }
  const __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
  q[0] = _mm512_unpacklo_epi64(t0, t2);
  q[1] = _mm512_unpackhi_epi64(t0, t2);
  q[2] = _mm512_unpacklo_epi64(t1, t3);
  q[3] = _mm512_unpackhi_epi64(t1, t3);
}

enum class PanelCodes { kUnsigned, kSigned };

// Where a panel of 16 rows is read from: row r's bytes start at rows[r] (rows beyond n_valid
// repeat the last valid one), and `index` holds the same offsets from row 0 for gathers.
struct PanelRows {
  const std::uint8_t* first;
  const std::uint8_t* row[kPanelRows];
  __m512i index;
  std::uint64_t row_bytes;
  std::int64_t nb_total;

  PanelRows(const std::uint8_t* rows, std::uint64_t bytes_per_row, int n_valid, std::int64_t nb)
      : first(rows), row_bytes(bytes_per_row), nb_total(nb) {
    alignas(64) std::int32_t offsets[kPanelRows];
    for (int r = 0; r < kPanelRows; ++r) {
      offsets[r] = static_cast<std::int32_t>(static_cast<std::uint64_t>(r < n_valid ? r : n_valid - 1) * row_bytes);
      row[r] = rows + offsets[r];
    }
    index = _mm512_load_si512(offsets);
  }

  // The fp16 field at `field` (an address in row 0) of every row, lane r = row r. The 4-byte
  // gather reads 2 bytes past the field, which are still inside its block.
  __m256i gather_half_bits(const std::uint8_t* field) const {
    return _mm512_cvtepi32_epi16(_mm512_i32gather_epi32(index, field, 1));
  }
  // The same as floats.
  __m512 gather_halves(const std::uint8_t* field) const { return _mm512_cvtph_ps(gather_half_bits(field)); }

  // The next panel's 16 rows are one contiguous range: fetch it sequentially while this one is
  // multiplied, a share per block, so decode keeps many cache-line reads in flight in DRAM order.
  // (Past the matrix end this touches memory that is never used; prefetches never fault.)
  // always_inline: GCC's pure/const analysis counts a prefetch as no effect, so a call left out
  // of line to a function that only prefetches is deleted as dead code.
  __attribute__((always_inline)) void prefetch_next_panel_share(std::int64_t block) const {
    const std::uint64_t share = kPanelRows * row_bytes / static_cast<std::uint64_t>(nb_total);
    const std::uint8_t* ahead = first + kPanelRows * row_bytes + static_cast<std::uint64_t>(block) * share;
    for (std::uint64_t off = 0; off < share + 63; off += 64) _mm_prefetch(reinterpret_cast<const char*>(ahead + off), _MM_HINT_T1);
  }
};

// Block b of the panel's 16 rows in registers: q[k] lane r = weights 4k..4k+3 of row r (codes as
// kCodes says), d / m lane r = the row's scale / min (m only for types with a min).
struct PanelBlock {
  __m512i q[8];
  __m512 d, m;
};

// The same block as it lies in the file, only transposed: lane r of every vector is row r.
// packed[k] = bytes 4k..4k+3 of the row's codes (8 vectors for Q8_0, signed; 4 for the nibble
// types, low and high nibbles together), qh = the fifth-bit word, d / m = fp16 scale / min.
// This is also what a repacked panel stores (StoredPanels), so reading one needs no gathers.
struct RawPanelBlock {
  __m512i packed[8];
  __m512i qh;
  __m256i d, m;
};

template <class L>
inline constexpr int kPackedVectors = L::kNibbles ? 4 : 8;

template <class L>
inline void load_raw_block(const PanelRows& rows, std::int64_t b, RawPanelBlock& out) {
  const std::uint8_t* blk = rows.first + b * L::kBytes;
  out.d = rows.gather_half_bits(blk);
  if constexpr (L::kMin >= 0) out.m = rows.gather_half_bits(blk + L::kMin);
  if constexpr (L::kQh >= 0) out.qh = _mm512_i32gather_epi32(rows.index, blk + L::kQh, 1);
  transpose_16x4(rows.row, b * L::kBytes + L::kQs, out.packed);
  if constexpr (!L::kNibbles) transpose_16x4(rows.row, b * L::kBytes + L::kQs + 16, out.packed + 4);
}

// Codes, scales and mins as the micro-kernels take them.
template <class L, PanelCodes kCodes = PanelCodes::kUnsigned>
inline void expand_block(const RawPanelBlock& raw, PanelBlock& out) {
  out.d = _mm512_cvtph_ps(raw.d);
  if constexpr (L::kMin >= 0) {
    out.m = _mm512_cvtph_ps(raw.m);
  } else {
    out.m = _mm512_setzero_ps();  // unused, but passed on by value
  }
  if constexpr (!L::kNibbles) {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) out.q[k] = kCodes == PanelCodes::kUnsigned ? _mm512_xor_si512(raw.packed[k], flip) : raw.packed[k];
  } else {
    const __m512i low_nibbles = _mm512_set1_epi8(0x0F);
#pragma GCC unroll 8
    for (int k = 0; k < 4; ++k) {
      // Byte i of qs holds weight i (low nibble) and weight i + 16 (high nibble).
      const __m512i q = raw.packed[k];
      __m512i lo = _mm512_and_si512(q, low_nibbles);
      __m512i hi = _mm512_and_si512(_mm512_srli_epi32(q, 4), low_nibbles);
      if constexpr (L::kQh >= 0) {
        // Fifth bits of weights 4k..4k+3 (bits 4k.. of qh) and 4k+16..: spread 4 bits into the
        // bit 4 of 4 bytes. Multiplying by 1 + 2^7 + 2^14 + 2^21 moves bit i to bit 8i
        // (copies do not overlap, so no carries); the mask keeps those.
        const __m512i spread = _mm512_set1_epi32(0x00204081);
        const __m512i pick = _mm512_set1_epi32(0x01010101);
        const __m512i bits_lo = _mm512_and_si512(_mm512_srli_epi32(raw.qh, 4 * k), _mm512_set1_epi32(0xF));
        const __m512i bits_hi = _mm512_and_si512(_mm512_srli_epi32(raw.qh, 4 * k + 16), _mm512_set1_epi32(0xF));
        lo = _mm512_or_si512(lo, _mm512_slli_epi32(_mm512_and_si512(_mm512_mullo_epi32(bits_lo, spread), pick), 4));
        hi = _mm512_or_si512(hi, _mm512_slli_epi32(_mm512_and_si512(_mm512_mullo_epi32(bits_hi, spread), pick), 4));
      }
      if constexpr (kCodes == PanelCodes::kSigned) {
        lo = _mm512_sub_epi8(lo, _mm512_set1_epi8(L::kOffset));
        hi = _mm512_sub_epi8(hi, _mm512_set1_epi8(L::kOffset));
      }
      out.q[k] = lo;
      out.q[k + 4] = hi;
    }
  }
}

template <class L, PanelCodes kCodes = PanelCodes::kUnsigned>
inline void load_panel_block(const PanelRows& rows, std::int64_t b, PanelBlock& out) {
  RawPanelBlock raw;
  load_raw_block<L>(rows, b, raw);
  expand_block<L, kCodes>(raw, out);
}

// Decode of repacked panels (these and the K-quant ones) reads them in order and fetches
// `bytes` at kStoredPrefetchAhead past `at` into L2 (prefetcht1). Measured on an AMD Zen 4 host
// (KERNELS-LOG, session 10): with no prefetch or with prefetcht0 a core reads one stream at
// ~12-15 GB/s, bounded by its L1 miss buffers; prefetcht1 this far ahead doubles one core's
// rate. Nothing is fetched at or past `range_end`, the end of the thread's rows: there it would
// fetch another thread's share. always_inline: see prefetch_next_panel_share.
constexpr std::uint64_t kStoredPrefetchAhead = 16384;

__attribute__((always_inline)) inline void prefetch_stored_ahead(const std::uint8_t* at, std::uint64_t bytes,
                                                                 const std::uint8_t* range_end) {
  const std::uint8_t* ahead = at + kStoredPrefetchAhead;
  if (ahead >= range_end) return;
#pragma GCC unroll 64
  for (std::uint64_t off = 0; off < bytes; off += 64) _mm_prefetch(reinterpret_cast<const char*>(ahead + off), _MM_HINT_T1);
}

// A weight matrix repacked at load time (MatmulKernel::pack) into panels of 16 rows, each one
// contiguous range holding, for its nb blocks in turn, the RawPanelBlock vectors without the
// padding: first all blocks' codes (nb x kPackedVectors x 64 bytes), then their fp16 scales
// (nb x 32 bytes), mins (nb x 32, types with a min) and fifth-bit words (nb x 64, Q5 types).
// A panel is 16 x row_bytes, so the matrix keeps its size (the last panel is padded to 16 rows
// by repeating its last row). Decode then reads each panel front to back, with no gathers or
// transposes: the per-block work that bounded the 4-bit types' decode rate.
template <class L>
struct StoredPanels {
  static constexpr std::uint64_t kCodeBytes = kPackedVectors<L> * 64;
  std::uint8_t* first;  // this panel
  std::int64_t nb;

  StoredPanels(const std::uint8_t* data, std::uint64_t row_bytes, std::int64_t panel, std::int64_t n_blocks)
      : first(const_cast<std::uint8_t*>(data) + static_cast<std::uint64_t>(panel) * kPanelRows * row_bytes), nb(n_blocks) {}

  std::uint8_t* codes(std::int64_t b) const { return first + static_cast<std::uint64_t>(b) * kCodeBytes; }
  std::uint8_t* scales(std::int64_t b) const { return first + static_cast<std::uint64_t>(nb) * kCodeBytes + b * 32; }
  std::uint8_t* mins(std::int64_t b) const { return scales(nb) + b * 32; }
  std::uint8_t* high_bits(std::int64_t b) const { return scales(nb) + (L::kMin >= 0 ? nb * 32 : 0) + b * 64; }

  void store(std::int64_t b, const RawPanelBlock& raw) const {
    for (int k = 0; k < kPackedVectors<L>; ++k) _mm512_storeu_si512(codes(b) + k * 64, raw.packed[k]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(scales(b)), raw.d);
    if constexpr (L::kMin >= 0) _mm256_storeu_si256(reinterpret_cast<__m256i*>(mins(b)), raw.m);
    if constexpr (L::kQh >= 0) _mm512_storeu_si512(high_bits(b), raw.qh);
  }

  template <PanelCodes kCodes = PanelCodes::kUnsigned>
  __attribute__((always_inline)) void load(std::int64_t b, PanelBlock& out) const {
    RawPanelBlock raw;
#pragma GCC unroll 8
    for (int k = 0; k < kPackedVectors<L>; ++k) raw.packed[k] = _mm512_loadu_si512(codes(b) + k * 64);
    raw.d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(scales(b)));
    if constexpr (L::kMin >= 0) raw.m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(mins(b)));
    if constexpr (L::kQh >= 0) raw.qh = _mm512_loadu_si512(high_bits(b));
    expand_block<L, kCodes>(raw, out);
  }
};

// Repacks blocks [b0, b0 + n_blocks) of 16 rows starting at `rows` (rows beyond n_valid repeat
// the last valid one) into codes [n_blocks][8][16 lanes][4 bytes], scales and mins [n_blocks][16].
template <class L, PanelCodes kCodes = PanelCodes::kUnsigned>
void pack_panel(const std::uint8_t* rows, std::uint64_t row_bytes, int n_valid, std::int64_t nb_total, std::int64_t b0, int n_blocks,
                std::uint8_t* codes, float* scales, float* mins) {
  const PanelRows panel(rows, row_bytes, n_valid, nb_total);
  for (int j = 0; j < n_blocks; ++j) {
    panel.prefetch_next_panel_share(b0 + j);
    PanelBlock block;
    load_panel_block<L, kCodes>(panel, b0 + j, block);
    _mm512_store_ps(scales + j * kPanelRows, block.d);
    if constexpr (L::kMin >= 0) _mm512_store_ps(mins + j * kPanelRows, block.m);
    std::uint8_t* out = codes + j * 8 * 64;
    for (int k = 0; k < 8; ++k) _mm512_store_si512(out + k * 64, block.q[k]);
  }
}

}  // namespace
}  // namespace autarky

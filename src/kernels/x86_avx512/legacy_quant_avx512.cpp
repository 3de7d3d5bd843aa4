// AVX-512 VNNI matmul for the 32-weight "legacy" block types (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1)
// against activations quantized to Q8_0 (one fp16 scale per 32 int8 values), or to Q8_1 (the
// same plus s = d * sum of the codes, in fp16) for Q4_1 / Q5_1, as llama.cpp pairs them.
//
// Layout: weights are repacked on the fly, per panel of 16 output rows and a chunk of blocks,
// into the shape vpdpbusd wants: for block b and k in 0..7, one 64-byte vector whose lane r holds
// the 4 weights 4k..4k+3 of row r as unsigned bytes. Activations stay in their Q8_0 rows and
// are broadcast 4 bytes at a time, so one vpdpbusd does 4 multiply-adds for each of 16 rows and
// the 8 of them give the 16 rows' exact int32 block dot products with no horizontal sums. The
// panel (<= 32 KiB) stays in L1 and is reused by every token, so for prefill the repacking is
// amortised over hundreds of tokens. Decode (one or two tokens) takes the paths of
// legacy_decode_avx512.inc instead, which give the same int32 block sums and float additions.
// Weights of the 4- and 5-bit types are normally repacked at load (StoredPanels, stored_rows
// below), which stores the panels' raw transposed codes and fp16 scales so that no path
// gathers or transposes per call; the paths on the file's rows remain for AUTARKY_REPACK=0,
// for Q8_0, and as the reference the repacked results are tested against.
//
// Signedness (vpdpbusd multiplies unsigned by signed bytes): every type is stored as an unsigned
// code u = q + c with a per-type offset c (Q8_0: int8 q xor 0x80, i.e. c = 128; Q4_0: c = 8 on
// the [-8, 7] values, i.e. the raw nibble; Q5_0: c = 16; Q4_1/Q5_1 codes are already unsigned
// with c = 0 and a separate min). Then sum q * a = sum u * a - c * sum a, and sum a of each
// activation block is computed once per call, so the correction -c * sum a is simply the value
// the int32 accumulator starts from: it costs nothing per row. Types with a min (x = d q + m)
// add m * s_a per block with one more FMA, s_a the Q8_1 block's fp16 d_a * sum a.

#include <immintrin.h>

// GCC 12 reports the deliberately undefined source vector inside some AVX-512 intrinsics
// (_mm512_undefined_*) as "may be used uninitialized" once they are inlined here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/scratch.h"
#include "kernels/x86_avx512/legacy_panel_pack.h"
#include "kernels/x86_avx512/legacy_quant_avx512.h"
#include "tensor/blocks.h"

namespace autarky::avx512 {
namespace {

using kernels::ScratchSlot;
using kernels::thread_scratch;

constexpr int kTileTokens = 8;    // tokens sharing each loaded weight vector
constexpr int kChunkBlocks = 32;  // blocks per repacked panel chunk: 32 * 512 B = 16 KiB (L1, with the activations)

// What the kernel needs per activation block besides its int8 codes.
struct ActivationBlockInfo {
  std::int32_t start;  // initial int32 accumulator: -c * sum(a) (0 for types with a min)
  float d;             // activation scale
  float s;             // types with a min: the Q8_1 block's s (d * sum(a), fp16-rounded)
};

// The activations regrouped once per call for the micro-kernel: tokens in groups of
// kTileTokens, and per group and block the codes of its tokens side by side, so that one pointer
// (plus constant offsets) reaches every activation byte a tile needs:
//   codes [n_groups][nb][kTileTokens][32], info [n_groups][nb][kTileTokens].
// Slots of tokens past n_tokens in the last group are left unused.
struct GroupedActivations {
  std::int8_t* codes;
  ActivationBlockInfo* info;
  std::int64_t nb;

  std::int64_t group_block(std::int64_t t, std::int64_t b) const { return (t / kTileTokens * nb + b) * kTileTokens; }
};

// Reads Q8_1 blocks when has_min (Q4_1 / Q5_1), Q8_0 blocks otherwise.
GroupedActivations group_activations(const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                                     std::int64_t nb, int offset, bool has_min) {
  const std::int64_t n_groups = (n_tokens + kTileTokens - 1) / kTileTokens;
  const std::size_t slots = static_cast<std::size_t>(n_groups * nb * kTileTokens);
  std::uint8_t* mem = thread_scratch(ScratchSlot::kActivationInfo, slots * (kQK + sizeof(ActivationBlockInfo)));
  GroupedActivations g{reinterpret_cast<std::int8_t*>(mem), reinterpret_cast<ActivationBlockInfo*>(mem + slots * kQK),
                       nb};
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  const std::size_t block_bytes = has_min ? sizeof(BlockQ8_1) : sizeof(BlockQ8_0);
  const int codes_at = has_min ? offsetof(BlockQ8_1, qs) : offsetof(BlockQ8_0, qs);
  for (std::int64_t t = 0; t < n_tokens; ++t) {
    const std::uint8_t* row = x + static_cast<std::uint64_t>(t) * x_row_bytes;
    for (std::int64_t b = 0; b < nb; ++b) {
      const std::uint8_t* blk = row + b * block_bytes;
      const std::int64_t slot = g.group_block(t, b) + t % kTileTokens;
      std::uint16_t d16, s16 = 0;
      std::memcpy(&d16, blk, 2);
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + codes_at));
      _mm256_store_si256(reinterpret_cast<__m256i*>(g.codes + slot * kQK), q);
      if (has_min) {
        std::memcpy(&s16, blk + offsetof(BlockQ8_1, s), 2);
        g.info[slot] = {0, _cvtsh_ss(d16), _cvtsh_ss(s16)};
        continue;
      }
      // Sum of the int8 codes: sum of (code + 128) by psadbw, minus 32 * 128.
      const __m256i sad = _mm256_sad_epu8(_mm256_xor_si256(q, flip), _mm256_setzero_si256());
      const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(sad), _mm256_extracti128_si256(sad, 1));
      const std::int32_t sum =
          static_cast<std::int32_t>(_mm_cvtsi128_si64(s2) + _mm_extract_epi64(s2, 1)) - 32 * 128;
      g.info[slot] = {-offset * sum, _cvtsh_ss(d16), 0.0f};
    }
  }
  return g;
}

// The float steps after one block's exact int32 sums (lane r = row r; the -c * sum(a) start
// included for types without a min): acc + sum * (dw d) [+ mw * s]. Every path of this
// file ends a block here, which is what keeps results independent of the path.
template <bool kHasMin>
inline __m512 add_block_sum(__m512i sum, __m512 dw, __m512 mw, const ActivationBlockInfo& info, __m512 acc) {
  const __m512 d = _mm512_set1_ps(info.d);
  acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(dw, d), acc);
  if constexpr (kHasMin) acc = _mm512_fmadd_ps(mw, _mm512_set1_ps(info.s), acc);
  return acc;
}

// One block of 16 rows (w[k] lane r = unsigned codes 4k..4k+3 of row r, dw / mw = the rows'
// scales / mins) times T tokens of one group: acc[t] (16 floats) += ...
template <int T, bool kHasMin>
inline void multiply_block(const __m512i* w, __m512 dw, __m512 mw, const std::int8_t* act,
                           const ActivationBlockInfo* info, __m512* acc) {
  // Token-interleaved order: consecutive vpdpbusd are independent, so the 5-cycle latency of
  // each token's chain of 8 is hidden without relying on a deep out-of-order window.
  __m512i sum[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) sum[t] = kHasMin ? _mm512_setzero_si512() : _mm512_set1_epi32(info[t].start);
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      sum[t] = _mm512_dpbusd_epi32(sum[t], w[k], _mm512_set1_epi32(load_i32(act + t * kQK + 4 * k)));
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = add_block_sum<kHasMin>(sum[t], dw, mw, info[t], acc[t]);
}

// Rows of one repacked 16-row panel chunk times T tokens of one group.
template <int T, bool kHasMin>
inline void panel_tile(const std::uint8_t* codes, const float* scales, const float* mins, int n_blocks,
                       const std::int8_t* act, const ActivationBlockInfo* info, __m512* acc) {
  for (int j = 0; j < n_blocks; ++j, act += kTileTokens * kQK, info += kTileTokens) {
    const std::uint8_t* c = codes + j * 8 * 64;
    __m512i w[8];
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) w[k] = _mm512_load_si512(c + k * 64);
    const __m512 mw = kHasMin ? _mm512_load_ps(mins + j * kPanelRows) : _mm512_setzero_ps();
    multiply_block<T, kHasMin>(w, _mm512_load_ps(scales + j * kPanelRows), mw, act, info, acc);
  }
}

// Adds chunk sums to y (or stores the first chunk): the same float additions for every path.
inline void add_chunk(float* out, __mmask16 lanes, bool first_chunk, __m512 acc) {
  const __m512 prev = first_chunk ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(lanes, out);
  _mm512_mask_storeu_ps(out, lanes, _mm512_add_ps(prev, acc));
}

struct PanelJob {
  const std::uint8_t* codes;
  const float* scales;
  const float* mins;
  int n_blocks;
  std::int64_t b0;
  const GroupedActivations* act;
  float* y;                         // column r0 of token 0
  std::int64_t y_stride;
  __mmask16 lanes;                  // valid rows of the panel
  bool first_chunk;                 // store (else add to) y
};

// Tokens [t0, t0 + T) of one group (t0 a multiple of kTileTokens).
template <int T, bool kHasMin>
void run_tokens(const PanelJob& job, std::int64_t t0) {
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  const std::int64_t slot = job.act->group_block(t0, job.b0);
  panel_tile<T, kHasMin>(job.codes, job.scales, job.mins, job.n_blocks, job.act->codes + slot * kQK,
                         job.act->info + slot, acc);
  for (int t = 0; t < T; ++t) add_chunk(job.y + (t0 + t) * job.y_stride, job.lanes, job.first_chunk, acc[t]);
}

template <bool kHasMin>
void run_all_tokens(const PanelJob& job, std::int64_t n_tokens) {
  std::int64_t t = 0;
  for (; t + kTileTokens <= n_tokens; t += kTileTokens) run_tokens<kTileTokens, kHasMin>(job, t);
  switch (n_tokens - t) {
    case 7: run_tokens<7, kHasMin>(job, t); break;
    case 6: run_tokens<6, kHasMin>(job, t); break;
    case 5: run_tokens<5, kHasMin>(job, t); break;
    case 4: run_tokens<4, kHasMin>(job, t); break;
    case 3: run_tokens<3, kHasMin>(job, t); break;
    case 2: run_tokens<2, kHasMin>(job, t); break;
    case 1: run_tokens<1, kHasMin>(job, t); break;
    default: break;
  }
}

#include "kernels/x86_avx512/legacy_decode_avx512.inc"

template <class L>
void matmul_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                 float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  constexpr bool kHasMin = L::kMin >= 0;
  const std::int64_t nb = w.n_in / kQK;
  const GroupedActivations act = group_activations(x, x_row_bytes, n_tokens, nb, L::kOffset, kHasMin);
  const int chunk = static_cast<int>(nb < kChunkBlocks ? nb : kChunkBlocks);
  if (n_tokens == 1) return decode_rows<L>(w, act, nb, chunk, y, row_begin, row_end);
  if (n_tokens == 2) return fused_rows<L, 2>(w, act, nb, chunk, y, y_stride, row_begin, row_end);

  std::uint8_t* panel = thread_scratch(ScratchSlot::kPanel, static_cast<std::size_t>(chunk) * (8 * 64 + 2 * 64));
  std::uint8_t* codes = panel;
  float* scales = reinterpret_cast<float*>(panel + chunk * 8 * 64);
  float* mins = scales + chunk * kPanelRows;

  for (std::int64_t r0 = row_begin; r0 < row_end; r0 += kPanelRows) {
    const int n_valid = static_cast<int>(row_end - r0 < kPanelRows ? row_end - r0 : kPanelRows);
    const std::uint8_t* rows = w.data + static_cast<std::uint64_t>(r0) * w.row_bytes;
    for (std::int64_t b0 = 0; b0 < nb; b0 += chunk) {
      const int n_blocks = static_cast<int>(nb - b0 < chunk ? nb - b0 : chunk);
      pack_panel<L>(rows, w.row_bytes, n_valid, nb, b0, n_blocks, codes, scales, mins);
      const PanelJob job{codes, scales, mins, n_blocks, b0, &act, y + r0, y_stride,
                         static_cast<__mmask16>((1u << n_valid) - 1), b0 == 0};
      run_all_tokens<kHasMin>(job, n_tokens);
    }
  }
}

// Weights repacked at load time (StoredPanels): up to one group of tokens (decode, small
// batches) multiplies each block straight from the loaded vectors; larger batches expand each
// chunk once into the scratch panel that every token group reuses, as matmul_rows does. Either
// way the int32 block sums and the float steps are those of matmul_rows, bit for bit.
template <class L, int T>
void stored_rows_tokens(const WeightMatrix& w, const GroupedActivations& act, std::int64_t nb, int chunk, float* y,
                        std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  constexpr bool kHasMin = L::kMin >= 0;
  // Codes are read in order and fetched ahead into L2 (prefetch_stored_ahead), where the
  // unpacked 16-row layout got more from the L2 streamer.
  const std::uint8_t* range_end = StoredPanels<L>(w.data, w.row_bytes, (row_end + kPanelRows - 1) / kPanelRows, nb).first;
  for (std::int64_t r0 = row_begin; r0 < row_end; r0 += kPanelRows) {
    const int n_valid = static_cast<int>(row_end - r0 < kPanelRows ? row_end - r0 : kPanelRows);
    const StoredPanels<L> panel(w.data, w.row_bytes, r0 / kPanelRows, nb);
    const __mmask16 lanes = static_cast<__mmask16>((1u << n_valid) - 1);
    for (std::int64_t b0 = 0; b0 < nb; b0 += chunk) {
      const std::int64_t b_end = b0 + chunk < nb ? b0 + chunk : nb;
      __m512 acc[T];
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
      for (std::int64_t b = b0; b < b_end; ++b) {
        prefetch_stored_ahead(panel.codes(b), StoredPanels<L>::kCodeBytes, range_end);
        PanelBlock block;
        panel.load(b, block);
        const std::int64_t slot = act.group_block(0, b);
        multiply_block<T, kHasMin>(block.q, block.d, block.m, act.codes + slot * kQK, act.info + slot, acc);
      }
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) add_chunk(y + r0 + t * y_stride, lanes, b0 == 0, acc[t]);
    }
  }
}

template <class L>
void stored_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                 float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  constexpr bool kHasMin = L::kMin >= 0;
  const std::int64_t nb = w.n_in / kQK;
  const GroupedActivations act = group_activations(x, x_row_bytes, n_tokens, nb, L::kOffset, kHasMin);
  const int chunk = static_cast<int>(nb < kChunkBlocks ? nb : kChunkBlocks);
  switch (n_tokens) {
    case 1: return stored_rows_tokens<L, 1>(w, act, nb, chunk, y, y_stride, row_begin, row_end);
    case 2: return stored_rows_tokens<L, 2>(w, act, nb, chunk, y, y_stride, row_begin, row_end);
    case 3: return stored_rows_tokens<L, 3>(w, act, nb, chunk, y, y_stride, row_begin, row_end);
    case 4: return stored_rows_tokens<L, 4>(w, act, nb, chunk, y, y_stride, row_begin, row_end);
    case 5: return stored_rows_tokens<L, 5>(w, act, nb, chunk, y, y_stride, row_begin, row_end);
    case 6: return stored_rows_tokens<L, 6>(w, act, nb, chunk, y, y_stride, row_begin, row_end);
    case 7: return stored_rows_tokens<L, 7>(w, act, nb, chunk, y, y_stride, row_begin, row_end);
    case 8: return stored_rows_tokens<L, 8>(w, act, nb, chunk, y, y_stride, row_begin, row_end);
    default: break;
  }
  std::uint8_t* scratch = thread_scratch(ScratchSlot::kPanel, static_cast<std::size_t>(chunk) * (8 * 64 + 2 * 64));
  std::uint8_t* codes = scratch;
  float* scales = reinterpret_cast<float*>(scratch + chunk * 8 * 64);
  float* mins = scales + chunk * kPanelRows;
  for (std::int64_t r0 = row_begin; r0 < row_end; r0 += kPanelRows) {
    const int n_valid = static_cast<int>(row_end - r0 < kPanelRows ? row_end - r0 : kPanelRows);
    const StoredPanels<L> panel(w.data, w.row_bytes, r0 / kPanelRows, nb);
    for (std::int64_t b0 = 0; b0 < nb; b0 += chunk) {
      const int n_blocks = static_cast<int>(nb - b0 < chunk ? nb - b0 : chunk);
      for (int j = 0; j < n_blocks; ++j) {
        PanelBlock block;
        panel.load(b0 + j, block);
        _mm512_store_ps(scales + j * kPanelRows, block.d);
        if constexpr (kHasMin) _mm512_store_ps(mins + j * kPanelRows, block.m);
        for (int k = 0; k < 8; ++k) _mm512_store_si512(codes + (j * 8 + k) * 64, block.q[k]);
      }
      const PanelJob job{codes, scales, mins, n_blocks, b0, &act, y + r0, y_stride,
                         static_cast<__mmask16>((1u << n_valid) - 1), b0 == 0};
      run_all_tokens<kHasMin>(job, n_tokens);
    }
  }
}

// Rows [row_begin, row_end) (row_begin a multiple of 16) of w into StoredPanels at `out`.
template <class L>
void pack_stored(const WeightMatrix& w, std::uint8_t* out, std::int64_t row_begin, std::int64_t row_end) {
  const std::int64_t nb = w.n_in / kQK;
  for (std::int64_t r0 = row_begin; r0 < row_end; r0 += kPanelRows) {
    const int n_valid = static_cast<int>(w.n_out - r0 < kPanelRows ? w.n_out - r0 : kPanelRows);
    const PanelRows rows(w.row(r0), w.row_bytes, n_valid, nb);
    const StoredPanels<L> panel(out, w.row_bytes, r0 / kPanelRows, nb);
    for (std::int64_t b = 0; b < nb; ++b) {
      RawPanelBlock raw;
      load_raw_block<L>(rows, b, raw);
      panel.store(b, raw);
    }
  }
}

}  // namespace

#define AUTARKY_STORED_PANELS(name, act, L)                                                                          \
  void name##_##act##_stored(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes,                  \
                          std::int64_t n_tokens, float* y, std::int64_t y_stride, std::int64_t row_begin,            \
                          std::int64_t row_end) {                                                                   \
    stored_rows<L>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);                                   \
  }                                                                                                                 \
  void name##_pack_panels(const WeightMatrix& w, std::uint8_t* out, std::int64_t row_begin, std::int64_t row_end) { \
    pack_stored<L>(w, out, row_begin, row_end);                                                                     \
  }
AUTARKY_STORED_PANELS(q4_0, q8_0, Q4_0Layout)
AUTARKY_STORED_PANELS(q4_1, q8_1, Q4_1Layout)
AUTARKY_STORED_PANELS(q5_0, q8_0, Q5_0Layout)
AUTARKY_STORED_PANELS(q5_1, q8_1, Q5_1Layout)
#undef AUTARKY_STORED_PANELS

void q8_0_q8_0_panels(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  matmul_rows<Q8_0Layout>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}
void q4_0_q8_0_panels(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  matmul_rows<Q4_0Layout>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}
void q4_1_q8_1_panels(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  matmul_rows<Q4_1Layout>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}
void q5_0_q8_0_panels(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  matmul_rows<Q5_0Layout>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}
void q5_1_q8_1_panels(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  matmul_rows<Q5_1Layout>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

}  // namespace autarky::avx512

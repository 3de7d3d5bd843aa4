#pragma once
// The loop shared by the AMX kernels: int32 tile products C_i = A_i . B_i for i in [0, n), each
// handed to an AVX-512 epilogue that scales and accumulates it. Tile products have a long
// latency and a stored result cannot be read back at once, so two products are in flight on
// separate tiles (0-2 and 3-5) and the epilogue of pair p runs while pair p + 1 is multiplied:
// with one result tile the unit would wait on every block.
//
// Tile numbers: 0/3 = C (16 rows x 64 bytes int32), 1/4 = A, 2/5 = B (64-byte rows), configured
// by the caller (shapes depend on the quantization block). Everything here has internal linkage
// (see kernel_sets.h). Requires <immintrin.h> with AMX flags in the includer.

#include <cstddef>
#include <cstdint>

namespace autarky {
namespace {

constexpr int kTileResultInts = 16 * 16;

struct TileOperands {
  const void* a;
  std::size_t a_stride;
  const void* b;  // rows of 64 bytes
};

// operands(i) -> TileOperands; epilogue(i, const std::int32_t* c, acc) with c [16 rows of A][16
// columns of B]. acc is passed through rather than captured: a captured array ends up in memory,
// a passed one stays in registers once everything is inlined.
template <class Operands, class Epilogue>
__attribute__((always_inline)) inline void pipelined_tile_products(int n, Operands operands, Epilogue epilogue,
                                                                   __m512* acc) {
  alignas(64) std::int32_t c[2][2][kTileResultInts];  // [pair parity][product of the pair]
  const auto multiply_pair = [&](int i, std::int32_t (*out)[kTileResultInts]) {
    const TileOperands first = operands(i);
    _tile_zero(0);
    _tile_loadd(1, first.a, first.a_stride);
    _tile_loadd(2, first.b, 64);
    _tile_dpbssd(0, 1, 2);
    if (i + 1 < n) {
      const TileOperands second = operands(i + 1);
      _tile_zero(3);
      _tile_loadd(4, second.a, second.a_stride);
      _tile_loadd(5, second.b, 64);
      _tile_dpbssd(3, 4, 5);
    }
    _tile_stored(0, out[0], 64);
    if (i + 1 < n) _tile_stored(3, out[1], 64);
  };
  if (n <= 0) return;
  multiply_pair(0, c[0]);
  for (int i = 2;; i += 2) {
    if (i < n) multiply_pair(i, c[(i / 2) & 1]);
    const int done = i - 2;
    epilogue(done, c[(done / 2) & 1][0], acc);
    if (done + 1 < n) epilogue(done + 1, c[(done / 2) & 1][1], acc);
    if (i >= n) break;
  }
}

}  // namespace
}  // namespace autarky

#include "kernels/kernel_sets.h"

// The kernel tables per level. Add a kernel: write it in its folder, declare it in that folder's
// header (kernels built from one source for several levels: that source's header), add a row to
// that level's table. Rows are grouped by kernel family.

#include "kernels/float_weights.h"
#include "kernels/portable/kquant_portable.h"
#include "kernels/portable/legacy_quant_portable.h"

#if defined(AUTARKY_X86_KERNELS)
#include "kernels/x86_amx/legacy_quant_amx.h"
#include "kernels/x86_avx2/kquant_avx2.h"
#include "kernels/x86_avx2/legacy_quant_avx2.h"
#include "kernels/x86_avx512/half_float_avx512.h"
#include "kernels/x86_avx512/kquant_avx512.h"
#include "kernels/x86_avx512/legacy_quant_avx512.h"
#endif

namespace autarky::kernel_sets {

namespace {
// The legacy-quant kernels of one level (portable: kernels/legacy_quant_generic.inc; AVX2: its own).
#define AUTARKY_LEGACY_TABLE(ns, prefix, isa)                                                 \
  static constexpr MatmulKernel kQ8_0{prefix "_q8_0_q8_0", isa, DType::Q8_0, &ns::q8_0_q8_0_rows, 1}; \
  static constexpr MatmulKernel kQ4_0{prefix "_q4_0_q8_0", isa, DType::Q8_0, &ns::q4_0_q8_0_rows, 1}; \
  static constexpr MatmulKernel kQ4_1{prefix "_q4_1_q8_1", isa, DType::Q8_1, &ns::q4_1_q8_1_rows, 1}; \
  static constexpr MatmulKernel kQ5_0{prefix "_q5_0_q8_0", isa, DType::Q8_0, &ns::q5_0_q8_0_rows, 1}; \
  static constexpr MatmulKernel kQ5_1{prefix "_q5_1_q8_1", isa, DType::Q8_1, &ns::q5_1_q8_1_rows, 1}; \
  switch (type) {                                                                              \
    case DType::Q8_0: return &kQ8_0;                                                           \
    case DType::Q4_0: return &kQ4_0;                                                           \
    case DType::Q4_1: return &kQ4_1;                                                           \
    case DType::Q5_0: return &kQ5_0;                                                           \
    case DType::Q5_1: return &kQ5_1;                                                           \
    default: break;                                                                            \
  }

const MatmulKernel* portable_legacy(DType type) {
  AUTARKY_LEGACY_TABLE(portable, "portable", Isa::kPortable)
  return nullptr;
}
#if defined(AUTARKY_X86_KERNELS)
const MatmulKernel* avx2_legacy(DType type) {
  AUTARKY_LEGACY_TABLE(avx2, "avx2", Isa::kAvx2)
  return nullptr;
}
#endif
#undef AUTARKY_LEGACY_TABLE
}  // namespace

const MatmulKernel* portable(DType type, const CpuFeatures&) {
  // K-quants against Q8_K activations.
  static constexpr MatmulKernel kQ2_K{"portable_q2_k_q8_k", Isa::kPortable, DType::Q8_K, &portable::q2_k_q8_k, 1};
  static constexpr MatmulKernel kQ3_K{"portable_q3_k_q8_k", Isa::kPortable, DType::Q8_K, &portable::q3_k_q8_k, 1};
  static constexpr MatmulKernel kQ4_K{"portable_q4_k_q8_k", Isa::kPortable, DType::Q8_K, &portable::q4_k_q8_k, 1};
  static constexpr MatmulKernel kQ5_K{"portable_q5_k_q8_k", Isa::kPortable, DType::Q8_K, &portable::q5_k_q8_k, 1};
  static constexpr MatmulKernel kQ6_K{"portable_q6_k_q8_k", Isa::kPortable, DType::Q8_K, &portable::q6_k_q8_k, 1};
  // Float weights widened to F32, times F32 activations.
  static constexpr MatmulKernel kBF16{"portable_bf16_f32", Isa::kPortable, DType::F32, &portable::bf16_f32, 4};
  static constexpr MatmulKernel kF32{"portable_f32_f32", Isa::kPortable, DType::F32, &portable::f32_f32, 4};
  static constexpr MatmulKernel kF16{"portable_f16_f32", Isa::kPortable, DType::F32, &portable::f16_f32, 4};
  switch (type) {
    case DType::Q2_K: return &kQ2_K;
    case DType::Q3_K: return &kQ3_K;
    case DType::Q4_K: return &kQ4_K;
    case DType::Q5_K: return &kQ5_K;
    case DType::Q6_K: return &kQ6_K;
    case DType::BF16: return &kBF16;
    case DType::F32: return &kF32;
    case DType::F16: return &kF16;
    default: return portable_legacy(type);
  }
}

#if defined(AUTARKY_X86_KERNELS)
const MatmulKernel* avx2(DType type, const CpuFeatures&) {
  // K-quants against Q8_K activations.
  static constexpr MatmulKernel kQ2_K{"avx2_q2_k_q8_k", Isa::kAvx2, DType::Q8_K, &avx2::q2_k_q8_k, 1};
  static constexpr MatmulKernel kQ3_K{"avx2_q3_k_q8_k", Isa::kAvx2, DType::Q8_K, &avx2::q3_k_q8_k, 1};
  static constexpr MatmulKernel kQ4_K{"avx2_q4_k_q8_k", Isa::kAvx2, DType::Q8_K, &avx2::q4_k_q8_k, 1};
  static constexpr MatmulKernel kQ5_K{"avx2_q5_k_q8_k", Isa::kAvx2, DType::Q8_K, &avx2::q5_k_q8_k, 1};
  static constexpr MatmulKernel kQ6_K{"avx2_q6_k_q8_k", Isa::kAvx2, DType::Q8_K, &avx2::q6_k_q8_k, 1};
  // Float weights widened to F32, times F32 activations.
  static constexpr MatmulKernel kBF16{"avx2_bf16_f32", Isa::kAvx2, DType::F32, &avx2::bf16_f32, 4};
  static constexpr MatmulKernel kF32{"avx2_f32_f32", Isa::kAvx2, DType::F32, &avx2::f32_f32, 4};
  static constexpr MatmulKernel kF16{"avx2_f16_f32", Isa::kAvx2, DType::F32, &avx2::f16_f32, 4};
  switch (type) {
    case DType::Q2_K: return &kQ2_K;
    case DType::Q3_K: return &kQ3_K;
    case DType::Q4_K: return &kQ4_K;
    case DType::Q5_K: return &kQ5_K;
    case DType::Q6_K: return &kQ6_K;
    case DType::BF16: return &kBF16;
    case DType::F32: return &kF32;
    case DType::F16: return &kF16;
    default: return avx2_legacy(type);
  }
}

const MatmulKernel* avx512(DType type, const CpuFeatures& cpu) {
  // K-quants against Q8_K activations (VNNI).
  constexpr FromFloatFn kToQ8_K = &avx512::q8_k_from_float;
  // K-quants are repacked into 16-row panels at load time: decode of the file's rows was bound by
  // the per-row unpacking (Q4_K, Q5_K) or close to it (Q6_K), and prompts unpack tiles faster.
  static constexpr MatmulKernel kQ2_K{"avx512_q2_k_q8_k", Isa::kAvx512, DType::Q8_K, &avx512::q2_k_q8_k, 16, kToQ8_K,
                                      &avx512::q2_k_pack_panels, &avx512::q2_k_q8_k_stored};
  static constexpr MatmulKernel kQ3_K{"avx512_q3_k_q8_k", Isa::kAvx512, DType::Q8_K, &avx512::q3_k_q8_k, 16, kToQ8_K,
                                      &avx512::q3_k_pack_panels, &avx512::q3_k_q8_k_stored};
  static constexpr MatmulKernel kQ4_K{"avx512_q4_k_q8_k", Isa::kAvx512, DType::Q8_K, &avx512::q4_k_q8_k, 16, kToQ8_K,
                                      &avx512::q4_k_pack_panels, &avx512::q4_k_q8_k_stored};
  static constexpr MatmulKernel kQ5_K{"avx512_q5_k_q8_k", Isa::kAvx512, DType::Q8_K, &avx512::q5_k_q8_k, 16, kToQ8_K,
                                      &avx512::q5_k_pack_panels, &avx512::q5_k_q8_k_stored};
  static constexpr MatmulKernel kQ6_K{"avx512_q6_k_q8_k", Isa::kAvx512, DType::Q8_K, &avx512::q6_k_q8_k, 16, kToQ8_K,
                                      &avx512::q6_k_pack_panels, &avx512::q6_k_q8_k_stored};
  // Float weights (half precision widened to F32), FMA with F32 activations.
  static constexpr MatmulKernel kBF16{"avx512_bf16_f32", Isa::kAvx512, DType::F32, &avx512::bf16_f32, 4};
  // BF16 dot products where the CPU has them: twice the multiply-adds per instruction.
  static constexpr MatmulKernel kBF16Dot{"avx512_bf16_bf16", Isa::kAvx512, DType::BF16, &avx512::bf16_bf16, 4,
                                         &avx512::bf16_from_float};
  static constexpr MatmulKernel kF32{"avx512_f32_f32", Isa::kAvx512, DType::F32, &avx512::f32_f32, 4};
  static constexpr MatmulKernel kF16{"avx512_f16_f32", Isa::kAvx512, DType::F32, &avx512::f16_f32, 4};

  // 32-weight block types against Q8_0 activations (Q4_1 / Q5_1: Q8_1), 16-row panels (VNNI).
  // The 4- and 5-bit types are repacked into stored panels at load time: their decode was bound
  // by the gathers and transposes of reading 16 rows as they lie. Q8_0 is not: its decode already runs at the read
  // bandwidth from the file's rows, and copying its 1 GiB (1.1B model) would only add start-up.
  constexpr FromFloatFn kToQ8_0 = &avx512::q8_0_from_float;
  constexpr FromFloatFn kToQ8_1 = &avx512::q8_1_from_float;
  static constexpr MatmulKernel kQ8_0{"avx512_q8_0_q8_0", Isa::kAvx512, DType::Q8_0, &avx512::q8_0_q8_0_panels, 16,
                                      kToQ8_0};
  static constexpr MatmulKernel kQ4_0{"avx512_q4_0_q8_0", Isa::kAvx512, DType::Q8_0, &avx512::q4_0_q8_0_panels, 16,
                                      kToQ8_0, &avx512::q4_0_pack_panels, &avx512::q4_0_q8_0_stored};
  static constexpr MatmulKernel kQ4_1{"avx512_q4_1_q8_1", Isa::kAvx512, DType::Q8_1, &avx512::q4_1_q8_1_panels, 16,
                                      kToQ8_1, &avx512::q4_1_pack_panels, &avx512::q4_1_q8_1_stored};
  static constexpr MatmulKernel kQ5_0{"avx512_q5_0_q8_0", Isa::kAvx512, DType::Q8_0, &avx512::q5_0_q8_0_panels, 16,
                                      kToQ8_0, &avx512::q5_0_pack_panels, &avx512::q5_0_q8_0_stored};
  static constexpr MatmulKernel kQ5_1{"avx512_q5_1_q8_1", Isa::kAvx512, DType::Q8_1, &avx512::q5_1_q8_1_panels, 16,
                                      kToQ8_1, &avx512::q5_1_pack_panels, &avx512::q5_1_q8_1_stored};
  switch (type) {
    case DType::Q8_0: return &kQ8_0;
    case DType::Q4_0: return &kQ4_0;
    case DType::Q4_1: return &kQ4_1;
    case DType::Q5_0: return &kQ5_0;
    case DType::Q5_1: return &kQ5_1;
    case DType::Q2_K: return &kQ2_K;
    case DType::Q3_K: return &kQ3_K;
    case DType::Q4_K: return &kQ4_K;
    case DType::Q5_K: return &kQ5_K;
    case DType::Q6_K: return &kQ6_K;
    case DType::BF16: return cpu.avx512_bf16 ? &kBF16Dot : &kBF16;
    case DType::F32: return &kF32;
    case DType::F16: return &kF16;
    default: return nullptr;
  }
}

const MatmulKernel* amx(DType type, const CpuFeatures&) {
  // Tile multiplies for prefill; calls with few tokens run the VNNI kernels inside.
  constexpr FromFloatFn kToQ8_0 = &avx512::q8_0_from_float;
  static constexpr MatmulKernel kQ8_0{"amx_q8_0_q8_0", Isa::kAmx, DType::Q8_0, &amx::q8_0_q8_0_tiles, 16, kToQ8_0};
  static constexpr MatmulKernel kQ4_0{"amx_q4_0_q8_0", Isa::kAmx, DType::Q8_0, &amx::q4_0_q8_0_tiles, 16, kToQ8_0};
  static constexpr MatmulKernel kQ5_0{"amx_q5_0_q8_0", Isa::kAmx, DType::Q8_0, &amx::q5_0_q8_0_tiles, 16, kToQ8_0};
  switch (type) {
    case DType::Q8_0: return &kQ8_0;
    case DType::Q4_0: return &kQ4_0;
    case DType::Q5_0: return &kQ5_0;
    // K-quants: an AMX version (tile multiply per 32-weight sub-block, epilogue identical to the
    // VNNI kernel's) measured no faster than the VNNI kernel (166 vs 168 GMAC/s for Q4_K; 106 vs
    // 144 for Q6_K, whose scales are per 16 weights): there the unpacking, not the dot products,
    // bounds the time. Not kept.
    default: return nullptr;
  }
}
#else
const MatmulKernel* avx2(DType, const CpuFeatures&) { return nullptr; }
const MatmulKernel* avx512(DType, const CpuFeatures&) { return nullptr; }
const MatmulKernel* amx(DType, const CpuFeatures&) { return nullptr; }
#endif

}  // namespace autarky::kernel_sets

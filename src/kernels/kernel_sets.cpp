#include "kernels/kernel_sets.h"

// The kernel tables per level. Add a kernel: write it in its folder, declare it in that folder's
// header, add a row to that level's table. Rows are grouped by kernel family.

#if defined(AUTARKY_X86_KERNELS)
#include "kernels/x86_avx512/kquant_avx512.h"
#endif

namespace autarky::kernel_sets {

const MatmulKernel* portable(DType, const CpuFeatures&) { return nullptr; }

#if defined(AUTARKY_X86_KERNELS)
const MatmulKernel* avx2(DType, const CpuFeatures&) { return nullptr; }

const MatmulKernel* avx512(DType type, const CpuFeatures&) {
  // K-quants against Q8_K activations (VNNI).
  static constexpr MatmulKernel kQ4_K{"avx512_q4_k_q8_k", Isa::kAvx512, DType::Q8_K, &avx512::q4_k_q8_k_gemv, 1};
  static constexpr MatmulKernel kQ6_K{"avx512_q6_k_q8_k", Isa::kAvx512, DType::Q8_K, &avx512::q6_k_q8_k_gemv, 1};
  switch (type) {
    case DType::Q4_K: return &kQ4_K;
    case DType::Q6_K: return &kQ6_K;
    default: return nullptr;
  }
}
#else
const MatmulKernel* avx2(DType, const CpuFeatures&) { return nullptr; }
const MatmulKernel* avx512(DType, const CpuFeatures&) { return nullptr; }
#endif

}  // namespace autarky::kernel_sets

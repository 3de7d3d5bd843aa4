#include "kernels/kernel_sets.h"

// Declarations of the kernels in the per-level folders (defined there, compiled with their flags).
// Add a kernel: write it in its folder, declare it here, add a row to that level's table.

namespace autarky::kernel_sets {

const MatmulKernel* portable(DType, const CpuFeatures&) { return nullptr; }

#if defined(AUTARKY_X86_KERNELS)
const MatmulKernel* avx2(DType, const CpuFeatures&) { return nullptr; }
const MatmulKernel* avx512(DType, const CpuFeatures&) { return nullptr; }
#else
const MatmulKernel* avx2(DType, const CpuFeatures&) { return nullptr; }
const MatmulKernel* avx512(DType, const CpuFeatures&) { return nullptr; }
#endif

}  // namespace autarky::kernel_sets

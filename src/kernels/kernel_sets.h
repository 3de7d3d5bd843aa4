#pragma once
// The per-instruction-set kernel tables behind select_matmul_kernel(). Each returns the kernel
// for a weight type at exactly that level, or nullptr if that level has none for the type.
//
// Kernels for a level live in their own folder (src/kernels/portable, x86_avx2, x86_avx512, x86_amx),
// whose files CMake compiles with that level's target flags. Those files must not call inline
// functions of shared headers (fp16.h, type_traits, ...): the linker keeps one copy of an inline
// function, and a copy compiled with AVX-512 would then run on CPUs without it. Use plain
// structs from tensor/blocks.h and intrinsics instead. The tables themselves are in
// kernel_sets.cpp, compiled for the baseline, so looking up a kernel never runs wide instructions.

#include "kernels/matmul.h"
#include "platform/cpu_features.h"

namespace autarky::kernel_sets {

const MatmulKernel* portable(DType type, const CpuFeatures& cpu);
const MatmulKernel* avx2(DType type, const CpuFeatures& cpu);
const MatmulKernel* avx512(DType type, const CpuFeatures& cpu);
const MatmulKernel* amx(DType type, const CpuFeatures& cpu);

}  // namespace autarky::kernel_sets

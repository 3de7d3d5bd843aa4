// The element-wise ops (kernels/ops_generic.inc) compiled with this folder's flags:
// the AVX-512 flags: 16 lanes (zmm).

#include "kernels/x86_avx512/ops_avx512.h"

#include <cstddef>
#include <cstdint>

#define AUTARKY_OPS_LANES 16

namespace autarky::avx512 {
#include "kernels/ops_generic.inc"
}  // namespace autarky::avx512

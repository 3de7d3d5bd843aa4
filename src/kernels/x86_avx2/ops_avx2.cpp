// The element-wise ops (kernels/ops_generic.inc) compiled with this folder's flags:
// -mavx2 -mfma: 8 lanes.

#include "kernels/x86_avx2/ops_avx2.h"

#include <cstddef>
#include <cstdint>

#define AUTARKY_OPS_LANES 8

namespace autarky::avx2 {
#include "kernels/ops_generic.inc"
}  // namespace autarky::avx2

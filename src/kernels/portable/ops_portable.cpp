// The element-wise ops (kernels/ops_generic.inc) compiled with this folder's flags:
// baseline flags (any CPU, incl. AArch64): 4 lanes, SSE2 or NEON.

#include "kernels/portable/ops_portable.h"

#include <cstddef>
#include <cstdint>

#define AUTARKY_OPS_LANES 4

namespace autarky::portable {
#include "kernels/ops_generic.inc"
}  // namespace autarky::portable

// The float-weight kernels (kernels/float_weights_generic.inc) compiled with this folder's flags:
// baseline flags (any CPU, incl. AArch64): 4 lanes, SSE2 or NEON.

#include "kernels/float_weights.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#endif

#include <cstddef>
#include <cstdint>

#define AUTARKY_FLOAT_LANES 4

namespace autarky::portable {
#include "kernels/float_weights_generic.inc"
}  // namespace autarky::portable

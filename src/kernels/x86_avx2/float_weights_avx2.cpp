// The float-weight kernels (kernels/float_weights_generic.inc) compiled with this folder's flags:
// -mavx2 -mfma -mf16c: 8 lanes, vcvtph2ps for F16.

#include "kernels/float_weights.h"

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#define AUTARKY_FLOAT_LANES 8

namespace autarky::avx2 {
#include "kernels/float_weights_generic.inc"
}  // namespace autarky::avx2

// The generic legacy-quant kernels (kernels/legacy_quant_generic.inc) compiled with this
// folder's flags: AVX2 + FMA.

#include "kernels/x86_avx2/legacy_quant_avx2.h"

#include <cstddef>
#include <cstring>

#include "kernels/scratch.h"

namespace autarky::avx2 {
#include "kernels/legacy_quant_generic.inc"
}  // namespace autarky::avx2

// The generic legacy-quant kernels (kernels/legacy_quant_generic.inc) compiled with this
// folder's flags: baseline flags (any CPU, incl. AArch64).

#include "kernels/portable/legacy_quant_portable.h"

#include <cstddef>
#include <cstring>

#include "kernels/scratch.h"

namespace autarky::portable {
#include "kernels/legacy_quant_generic.inc"
}  // namespace autarky::portable

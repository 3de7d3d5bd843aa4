#pragma once
// Portable (plain C++) kernels for K-quant weights against Q8_K activations (MatmulRows,
// kernels/weight_matrix.h). Declarations only: this header is also read by baseline code.

#include "kernels/weight_matrix.h"

namespace autarky::portable {

MatmulRows q2_k_q8_k, q3_k_q8_k, q4_k_q8_k, q5_k_q8_k, q6_k_q8_k;

}  // namespace autarky::portable

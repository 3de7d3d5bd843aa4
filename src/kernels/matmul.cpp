#include "kernels/matmul.h"

#include <algorithm>

#include "base/error.h"
#include "kernels/ref/matmul_ref.h"
#include "tensor/type_traits.h"

namespace autarky {

MatmulKernel select_matmul_kernel(DType type) {
  if (!can_dequantize(type)) return {"none", nullptr};
  return {"ref", &ref::matmul_rows};
}

void matmul(ThreadPool& pool, const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y) {
  MatmulKernel kernel = select_matmul_kernel(w.type);
  AUTARKY_ASSERT(kernel.rows != nullptr, "no matmul kernel for {}", dtype_name(w.type));
  // Enough rows per share that the per-share row buffer and thread wake-up are amortised.
  const std::int64_t grain = std::max<std::int64_t>(16, 4096 / std::max<std::int64_t>(w.n_in, 1));
  pool.parallel_for(w.n_out, grain, [&](std::int64_t begin, std::int64_t end) {
    kernel.rows(w, x, n_tokens, y, w.n_out, begin, end);
  });
}

}  // namespace autarky

#include "tensor/convert.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <thread>
#include <vector>

#include "base/error.h"
#include "tensor/type_traits.h"

namespace autarky {
namespace {

int resolve_threads(int requested, std::int64_t work_items, std::int64_t elements_per_item) {
  int n = requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::int64_t total = work_items * elements_per_item;
  const std::int64_t by_size = std::max<std::int64_t>(1, total / kMinElementsPerThread);
  return static_cast<int>(std::min<std::int64_t>({n, by_size, work_items}));
}

// Runs fn(first, last) over [0, items) in contiguous chunks, one per thread; the calling thread
// takes the first chunk. Exceptions from workers are rethrown here.
template <typename Fn>
void parallel_chunks(std::int64_t items, int n_threads, Fn fn) {
  if (n_threads <= 1) {
    fn(std::int64_t{0}, items);
    return;
  }
  const std::int64_t per = (items + n_threads - 1) / n_threads;
  std::vector<std::thread> workers;
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(n_threads));
  for (int t = 1; t < n_threads; ++t) {
    const std::int64_t first = t * per, last = std::min(items, first + per);
    if (first >= last) break;
    workers.emplace_back([&, t, first, last] {
      try {
        fn(first, last);
      } catch (...) {
        errors[static_cast<std::size_t>(t)] = std::current_exception();
      }
    });
  }
  try {
    fn(std::int64_t{0}, std::min(items, per));
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& w : workers) w.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace

void dequantize(DType type, const void* src, float* dst, std::int64_t n, int n_threads) {
  const TypeTraits& traits = type_traits(type);
  const DTypeLayout& l = layout(type);
  if (!traits.to_float) fail("dequantize: type {} cannot be dequantized", l.name);
  if (n < 0 || n % l.block_size != 0) fail("dequantize: {} elements is not a whole number of {} blocks of {}", n, l.name, l.block_size);
  const std::int64_t n_blocks = n / l.block_size;
  const auto* bytes = static_cast<const std::uint8_t*>(src);
  parallel_chunks(n_blocks, resolve_threads(n_threads, n_blocks, l.block_size), [&](std::int64_t first, std::int64_t last) {
    traits.to_float(bytes + first * l.block_bytes, dst + first * l.block_size, (last - first) * l.block_size);
  });
}

void quantize(DType type, const float* src, void* dst, std::int64_t n_rows, std::int64_t n_per_row, int n_threads) {
  const TypeTraits& traits = type_traits(type);
  const DTypeLayout& l = layout(type);
  if (!traits.from_float) fail("quantize: type {} cannot be produced", l.name);
  if (n_rows < 0 || n_per_row < 0 || n_per_row % l.block_size != 0) {
    fail("quantize: rows of {} elements are not a whole number of {} blocks of {}", n_per_row, l.name, l.block_size);
  }
  const std::uint64_t bytes_per_row = row_bytes(type, n_per_row);
  auto* bytes = static_cast<std::uint8_t*>(dst);
  // Block types share one scale per block, so a single NaN or Inf would silently wipe out (or
  // poison) its whole block: refuse such input and say where it is. Float types keep them.
  const bool check_finite = l.block_size > 1;
  parallel_chunks(n_rows, resolve_threads(n_threads, n_rows, n_per_row), [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t r = first; r < last; ++r) {
      const float* row = src + r * n_per_row;
      if (check_finite) {
        for (std::int64_t i = 0; i < n_per_row; ++i) {
          if (!std::isfinite(row[i])) fail("quantize to {}: row {} element {} is {}", l.name, r, i, row[i]);
        }
      }
      traits.from_float(row, bytes + r * bytes_per_row, n_per_row);
    }
  });
}

}  // namespace autarky

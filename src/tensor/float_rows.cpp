// Row conversions of the plain floating-point types: F32, F16, BF16.

#include <cstring>

#include "tensor/fp16.h"
#include "tensor/quant_rows.h"

namespace autarky::rows {

void f32_to_float(const void* src, float* dst, std::int64_t n) {
  std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(float));
}
void f32_from_float(const float* src, void* dst, std::int64_t n) {
  std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(float));
}

// Files are not guaranteed to keep 2-byte fields aligned for us, so read through memcpy.
void f16_to_float(const void* src, float* dst, std::int64_t n) {
  const auto* bytes = static_cast<const std::uint8_t*>(src);
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint16_t h;
    std::memcpy(&h, bytes + 2 * i, 2);
    dst[i] = fp16_to_float(h);
  }
}
void f16_from_float(const float* src, void* dst, std::int64_t n) {
  auto* bytes = static_cast<std::uint8_t*>(dst);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint16_t h = float_to_fp16(src[i]);
    std::memcpy(bytes + 2 * i, &h, 2);
  }
}

void bf16_to_float(const void* src, float* dst, std::int64_t n) {
  const auto* bytes = static_cast<const std::uint8_t*>(src);
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint16_t b;
    std::memcpy(&b, bytes + 2 * i, 2);
    dst[i] = autarky::bf16_to_float(b);
  }
}
void bf16_from_float(const float* src, void* dst, std::int64_t n) {
  auto* bytes = static_cast<std::uint8_t*>(dst);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint16_t b = autarky::float_to_bf16(src[i]);
    std::memcpy(bytes + 2 * i, &b, 2);
  }
}

}  // namespace autarky::rows

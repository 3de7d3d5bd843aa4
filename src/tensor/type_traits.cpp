#include "tensor/type_traits.h"

#include <array>
#include <cstring>

#include "base/error.h"

namespace autarky {
namespace {

void f32_to_float(const void* src, float* dst, std::int64_t n) { std::memcpy(dst, src, n * sizeof(float)); }
void f32_from_float(const float* src, void* dst, std::int64_t n) { std::memcpy(dst, src, n * sizeof(float)); }

constexpr std::array kTraits = {
    TypeTraits{DType::F32, f32_to_float, f32_from_float},
};

}  // namespace

const TypeTraits& type_traits(DType type) {
  for (const auto& t : kTraits) {
    if (t.type == type) return t;
  }
  static const TypeTraits kLayoutOnly[] = {{DType::F32, nullptr, nullptr}};
  (void)kLayoutOnly;
  // Types without conversions still get an entry so callers can test can_dequantize().
  static thread_local TypeTraits layout_only;
  layout_only = {type, nullptr, nullptr};
  return layout_only;
}

}  // namespace autarky

#include "tensor/type_traits.h"

#include <array>

#include "base/error.h"
#include "tensor/quant_rows.h"

namespace autarky {
namespace {

// One past the largest DType id (MXFP4 = 39); ids between known types are unused.
constexpr std::size_t kTableSize = 40;

constexpr std::array<TypeTraits, kTableSize> make_table() {
  std::array<TypeTraits, kTableSize> t{};
  // Default every slot to "layout only" with its own id so lookups can be checked.
  for (std::size_t i = 0; i < kTableSize; ++i) t[i] = {static_cast<DType>(i), nullptr, nullptr, nullptr};
  // Types whose from_float is already cheap use it for the activation path too.
  auto set = [&t](DType type, ToFloatFn to_float, FromFloatFn from_float) {
    t[static_cast<std::size_t>(type)] = {type, to_float, from_float, from_float};
  };
  auto set_with_fast = [&t](DType type, ToFloatFn to_float, FromFloatFn from_float, FromFloatFn from_float_fast) {
    t[static_cast<std::size_t>(type)] = {type, to_float, from_float, from_float_fast};
  };
  set(DType::F32, rows::f32_to_float, rows::f32_from_float);
  set(DType::F16, rows::f16_to_float, rows::f16_from_float);
  set(DType::BF16, rows::bf16_to_float, rows::bf16_from_float);
  set(DType::Q4_0, rows::q4_0_to_float, rows::q4_0_from_float);
  set(DType::Q4_1, rows::q4_1_to_float, rows::q4_1_from_float);
  set(DType::Q5_0, rows::q5_0_to_float, rows::q5_0_from_float);
  set(DType::Q5_1, rows::q5_1_to_float, rows::q5_1_from_float);
  set_with_fast(DType::Q8_0, rows::q8_0_to_float, rows::q8_0_from_float, rows::q8_0_from_float_fast);
  set(DType::Q8_1, rows::q8_1_to_float, rows::q8_1_from_float);
  set(DType::Q2_K, rows::q2_k_to_float, rows::q2_k_from_float);
  set(DType::Q3_K, rows::q3_k_to_float, rows::q3_k_from_float);
  set(DType::Q4_K, rows::q4_k_to_float, rows::q4_k_from_float);
  set(DType::Q5_K, rows::q5_k_to_float, rows::q5_k_from_float);
  set(DType::Q6_K, rows::q6_k_to_float, rows::q6_k_from_float);
  set(DType::Q8_K, rows::q8_k_to_float, rows::q8_k_from_float);
  return t;
}

constexpr std::array<TypeTraits, kTableSize> kTraits = make_table();

}  // namespace

const TypeTraits& type_traits(DType type) {
  const auto index = static_cast<std::size_t>(type);
  AUTARKY_ASSERT(index < kTableSize && find_layout(static_cast<std::uint32_t>(type)) != nullptr,
                 "type_traits: unknown DType {}", index);
  return kTraits[index];
}

}  // namespace autarky

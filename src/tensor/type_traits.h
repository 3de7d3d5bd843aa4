#pragma once
// The per-type trait table: for every tensor type we can compute with, how to turn its blocks
// into floats and floats into blocks. Code that handles tensors of any type goes through this
// table rather than switching on DType. Every DType has an entry; types we can only inspect
// (IQ*, TQ*, integer types, ...) have null conversion functions.

#include <cstdint>

#include "tensor/dtype.h"

namespace autarky {

// Converts n elements (a multiple of the block size) from the type's blocks to float.
using ToFloatFn = void (*)(const void* src, float* dst, std::int64_t n);
// Converts n floats (a multiple of the block size) to the type's blocks. Inputs must be finite.
using FromFloatFn = void (*)(const float* src, void* dst, std::int64_t n);

struct TypeTraits {
  DType type;
  ToFloatFn to_float;      // null: the type can only be inspected, not computed with
  FromFloatFn from_float;  // best quality (scale search); for weights. null: we cannot produce it
  // Cheapest acceptable quantization, for activations quantized on every matmul (Q8_0, Q8_1,
  // Q8_K): one max-abs scale per block. Same as from_float where that is already cheap; null
  // exactly when from_float is.
  FromFloatFn from_float_fast;
};

// Traits of a type; to_float/from_float are null for layout-only types.
const TypeTraits& type_traits(DType type);
inline bool can_dequantize(DType type) { return type_traits(type).to_float != nullptr; }
inline bool can_quantize(DType type) { return type_traits(type).from_float != nullptr; }

}  // namespace autarky

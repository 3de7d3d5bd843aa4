#pragma once
// Quantization recipes: which tensor type each tensor of a model gets for a requested file type.
//
// The mixes follow the policy of llama.cpp's quantizer (so a file we quantize has the same
// tensor types as one llama.cpp makes from the same input): 1-D tensors and norms keep their
// type; the output projection (or the token embedding when it doubles as output) gets Q6_K;
// per recipe, attention-V, FFN-down, attention-output and fused QKV tensors get more bits in
// some layers. The per-recipe choices are data (kRecipes in the .cpp), not code paths.
//
// Rows that do not fit the chosen type's block fall back to a legacy type of similar precision:
// Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, Q2_K/Q3_K -> Q4_0 (llama.cpp picks IQ4_NL there, a
// type we cannot produce), and anything still not fitting -> F16.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/dtype.h"

namespace autarky {

// A tensor role that some recipe treats specially, matched by name as llama.cpp does.
enum class QuantRole { kAttnV, kFfnDown, kAttnOutput, kAttnQkv, kCount };

// When a role's rule fires, as a function of the tensor's index i among tensors of its role and
// the count n of such tensors (i.e. the layer, for dense models).
enum class LayerCondition {
  kNever,
  kAlways,
  kMoreBitsLayers,   // first and last eighth of the layers, and every third layer in between
  kFirstLayers,      // i < param
  kFirstFraction,    // i < n / param
  kGqaAtLeast,       // n_head / n_head_kv >= param (any layer)
};

struct RoleRule {
  LayerCondition when = LayerCondition::kNever;
  int param = 0;
  DType then = DType::F32;
  DType otherwise = DType::F32;  // only used when keep_base_otherwise is false
  bool keep_base_otherwise = true;
};

struct QuantRecipe {
  std::string_view name;       // "Q4_K_M"
  std::uint32_t file_type;     // general.file_type, numbered as llama.cpp's LLAMA_FTYPE
  DType base;                  // type of every 2-D weight no rule changes
  bool mixes_output;           // output projection to Q6_K (false for F32/F16/BF16 files)
  RoleRule rules[static_cast<int>(QuantRole::kCount)];
};

// Recipe for a type name ("Q4_K_M", "q8_0", ...; plain "Q3_K"/"Q4_K"/"Q5_K" mean the _M mix,
// as in llama-quantize); nullptr if unknown.
const QuantRecipe* find_quant_recipe(std::string_view name);
std::vector<std::string_view> quant_recipe_names();

// What the planner needs to know about a tensor.
struct TensorPlanInput {
  std::string name;
  std::vector<std::int64_t> ne;
  DType current;  // type in the input (kept for tensors that are never quantized)
};

// The type of every tensor, in order. n_gqa = attention.head_count / head_count_kv (1 if unknown).
std::vector<DType> plan_tensor_types(const QuantRecipe& recipe, std::span<const TensorPlanInput> tensors, int n_gqa);

// A legacy type for rows of `row_length` elements that `type`'s blocks do not fit.
DType fallback_type(DType type, std::int64_t row_length);

}  // namespace autarky

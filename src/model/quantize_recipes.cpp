#include "model/quantize_recipes.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "base/error.h"

namespace autarky {
namespace {

using C = LayerCondition;
constexpr RoleRule kNone{};
constexpr RoleRule always(DType t) { return {C::kAlways, 0, t, t, false}; }
constexpr RoleRule more_bits_layers(DType t) { return {C::kMoreBitsLayers, 0, t, DType::F32, true}; }
constexpr RoleRule first_layers(int k, DType t, DType otherwise) { return {C::kFirstLayers, k, t, otherwise, false}; }
constexpr RoleRule first_layers_keep(int k, DType t) { return {C::kFirstLayers, k, t, DType::F32, true}; }
constexpr RoleRule first_fraction(int d, DType t, DType otherwise) { return {C::kFirstFraction, d, t, otherwise, false}; }
constexpr RoleRule first_fraction_keep(int d, DType t) { return {C::kFirstFraction, d, t, DType::F32, true}; }
constexpr RoleRule gqa_at_least(int g, DType t, DType otherwise) { return {C::kGqaAtLeast, g, t, otherwise, false}; }

//                      name      ftype base        output  attn_v, ffn_down, attn_output, attn_qkv
constexpr std::array kRecipes = {
    QuantRecipe{"F32", 0, DType::F32, false, {}},
    QuantRecipe{"F16", 1, DType::F16, false, {}},
    QuantRecipe{"BF16", 32, DType::BF16, false, {}},
    QuantRecipe{"Q4_0", 2, DType::Q4_0, true, {}},
    QuantRecipe{"Q4_1", 3, DType::Q4_1, true, {}},
    QuantRecipe{"Q8_0", 7, DType::Q8_0, true, {}},
    QuantRecipe{"Q5_0", 8, DType::Q5_0, true, {}},
    QuantRecipe{"Q5_1", 9, DType::Q5_1, true, {}},
    QuantRecipe{"Q2_K", 10, DType::Q2_K, true,
                {gqa_at_least(4, DType::Q4_K, DType::Q3_K), always(DType::Q3_K), always(DType::Q3_K), kNone}},
    QuantRecipe{"Q3_K_S", 11, DType::Q3_K, true, {}},
    QuantRecipe{"Q3_K_M", 12, DType::Q3_K, true,
                {first_layers(2, DType::Q5_K, DType::Q4_K), first_fraction(16, DType::Q5_K, DType::Q4_K),
                 always(DType::Q4_K), always(DType::Q4_K)}},
    QuantRecipe{"Q3_K_L", 13, DType::Q3_K, true,
                {always(DType::Q5_K), always(DType::Q5_K), always(DType::Q5_K), always(DType::Q4_K)}},
    QuantRecipe{"Q4_K_S", 14, DType::Q4_K, true,
                {first_layers_keep(4, DType::Q5_K), first_fraction_keep(8, DType::Q5_K), kNone, kNone}},
    QuantRecipe{"Q4_K_M", 15, DType::Q4_K, true,
                {more_bits_layers(DType::Q6_K), more_bits_layers(DType::Q6_K), kNone, always(DType::Q5_K)}},
    QuantRecipe{"Q5_K_S", 16, DType::Q5_K, true, {}},
    QuantRecipe{"Q5_K_M", 17, DType::Q5_K, true,
                {more_bits_layers(DType::Q6_K), more_bits_layers(DType::Q6_K), kNone, always(DType::Q6_K)}},
    QuantRecipe{"Q6_K", 18, DType::Q6_K, true, {}},
};

// Plain K-type names select the _M mix of that type, as llama.cpp's llama-quantize does.
constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kAliases = {{
    {"Q3_K", "Q3_K_M"}, {"Q4_K", "Q4_K_M"}, {"Q5_K", "Q5_K_M"},
}};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
         });
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// Tensors that stay in their input type whatever the recipe: vectors, norms, MoE routers,
// position and token-type embeddings (tiny, and sensitive to rounding).
bool never_quantized(const TensorPlanInput& t) {
  return t.ne.size() < 2 || contains(t.name, "_norm.weight") || contains(t.name, "ffn_gate_inp.weight") ||
         t.name == "position_embd.weight" || t.name == "token_types.weight";
}

int role_of(std::string_view name) {
  if (contains(name, "attn_v.weight")) return static_cast<int>(QuantRole::kAttnV);
  if (contains(name, "ffn_down")) return static_cast<int>(QuantRole::kFfnDown);
  if (contains(name, "attn_output.weight")) return static_cast<int>(QuantRole::kAttnOutput);
  if (contains(name, "attn_qkv.weight")) return static_cast<int>(QuantRole::kAttnQkv);
  return -1;
}

// llama.cpp's "use more bits" layer pattern for _M mixes.
bool more_bits_layer(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

DType apply_rule(const RoleRule& r, DType base, int i, int n, int n_gqa) {
  bool fires = false;
  switch (r.when) {
    case C::kNever: return base;
    case C::kAlways: fires = true; break;
    case C::kMoreBitsLayers: fires = more_bits_layer(i, n); break;
    case C::kFirstLayers: fires = i < r.param; break;
    case C::kFirstFraction: fires = i < n / r.param; break;
    case C::kGqaAtLeast: fires = n_gqa >= r.param; break;
  }
  if (fires) return r.then;
  return r.keep_base_otherwise ? base : r.otherwise;
}

bool fits(DType type, std::int64_t row_length) { return row_length % layout(type).block_size == 0; }

}  // namespace

const QuantRecipe* find_quant_recipe(std::string_view name) {
  for (const auto& [alias, target] : kAliases) {
    if (iequals(alias, name)) name = target;
  }
  for (const auto& r : kRecipes) {
    if (iequals(r.name, name)) return &r;
  }
  return nullptr;
}

std::vector<std::string_view> quant_recipe_names() {
  std::vector<std::string_view> names;
  for (const auto& r : kRecipes) names.push_back(r.name);
  for (const auto& a : kAliases) names.push_back(a.first);
  return names;
}

DType fallback_type(DType type, std::int64_t row_length) {
  DType legacy = DType::F16;
  switch (type) {
    case DType::Q2_K: case DType::Q3_K: legacy = DType::Q4_0; break;
    case DType::Q4_K: legacy = DType::Q5_0; break;
    case DType::Q5_K: legacy = DType::Q5_1; break;
    case DType::Q6_K: legacy = DType::Q8_0; break;
    default: break;
  }
  return fits(legacy, row_length) ? legacy : DType::F16;
}

std::vector<DType> plan_tensor_types(const QuantRecipe& recipe, std::span<const TensorPlanInput> tensors, int n_gqa) {
  bool has_output = std::any_of(tensors.begin(), tensors.end(),
                                [](const TensorPlanInput& t) { return t.name == "output.weight"; });
  // Per role: how many tensors there are (n) and how many were seen so far (i), in file order,
  // which for dense models is the layer index.
  int role_count[static_cast<int>(QuantRole::kCount)] = {};
  int role_seen[static_cast<int>(QuantRole::kCount)] = {};
  for (const auto& t : tensors) {
    if (int role = role_of(t.name); role >= 0 && !never_quantized(t)) ++role_count[role];
  }

  std::vector<DType> types;
  types.reserve(tensors.size());
  for (const auto& t : tensors) {
    if (never_quantized(t)) {
      types.push_back(t.current);
      continue;
    }
    DType type = recipe.base;
    const std::int64_t row = t.ne[0];
    bool is_output = t.name == "output.weight" || (!has_output && t.name == "token_embd.weight");
    if (recipe.mixes_output && is_output) {
      // K-quants need rows of 256; the output projection then gets Q8_0 instead.
      if (row % layout(DType::Q6_K).block_size != 0) {
        type = DType::Q8_0;
      } else if (recipe.base != DType::Q8_0) {
        type = DType::Q6_K;
      }
    } else if (int role = role_of(t.name); role >= 0 && recipe.mixes_output) {
      type = apply_rule(recipe.rules[role], recipe.base, role_seen[role], role_count[role], n_gqa);
    }
    if (int role = role_of(t.name); role >= 0) ++role_seen[role];
    if (!fits(type, row)) type = fallback_type(type, row);
    types.push_back(type);
  }
  return types;
}

}  // namespace autarky

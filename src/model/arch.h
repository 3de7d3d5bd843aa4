#pragma once
// Architectures as data: for each supported family, the tensors it uses (by role) and their
// names in a GGUF file, plus the per-family choices that are not hyper-parameters (RoPE pairing).
// Adding an architecture means adding table rows here and one forward function.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "kernels/ref/ops_ref.h"

namespace autarky {

enum class Arch { kLlama, kQwen2, kQwen3 };

enum class TensorRole : int {
  kTokenEmbd,
  kOutputNorm,
  kOutput,
  kRopeFreqs,
  kAttnNorm,
  kAttnQ,
  kAttnK,
  kAttnV,
  kAttnQBias,
  kAttnKBias,
  kAttnVBias,
  kAttnQNorm,
  kAttnKNorm,
  kAttnOut,
  kFfnNorm,
  kFfnGate,
  kFfnUp,
  kFfnDown,
};
constexpr int kNumTensorRoles = static_cast<int>(TensorRole::kFfnDown) + 1;

enum class Presence { kRequired, kOptional };

struct TensorSpec {
  TensorRole role;
  std::string_view pattern;  // fmt pattern; per-layer tensors take the layer index: "blk.{}.attn_q.weight"
  bool per_layer;
  Presence presence;
};

struct ArchInfo {
  Arch arch;
  std::string_view name;  // general.architecture value and metadata key prefix
  ref::RopeStyle rope_style;
  std::span<const TensorSpec> tensors;
};

// The table row of an architecture name, or nullptr when it is not supported.
const ArchInfo* find_arch(std::string_view name);
const ArchInfo& arch_info(Arch arch);
std::string supported_arch_names();  // "llama, qwen2, qwen3" for error messages

std::string tensor_name(const TensorSpec& spec, std::int64_t layer);
std::string_view role_name(TensorRole role);

}  // namespace autarky

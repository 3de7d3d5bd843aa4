#include "model/arch.h"

#include <fmt/format.h>

#include "base/error.h"

namespace autarky {
namespace {

using R = TensorRole;
constexpr Presence kReq = Presence::kRequired;
constexpr Presence kOpt = Presence::kOptional;

// Tensors every Llama-style decoder shares. The output matrix is optional: when absent the
// token embedding is reused (tied embeddings).
#define AUTARKY_COMMON_TENSORS                                   \
  TensorSpec{R::kTokenEmbd, "token_embd.weight", false, kReq},   \
      TensorSpec{R::kOutputNorm, "output_norm.weight", false, kReq}, \
      TensorSpec{R::kOutput, "output.weight", false, kOpt},      \
      TensorSpec{R::kAttnNorm, "blk.{}.attn_norm.weight", true, kReq}, \
      TensorSpec{R::kAttnQ, "blk.{}.attn_q.weight", true, kReq}, \
      TensorSpec{R::kAttnK, "blk.{}.attn_k.weight", true, kReq}, \
      TensorSpec{R::kAttnV, "blk.{}.attn_v.weight", true, kReq}, \
      TensorSpec{R::kAttnOut, "blk.{}.attn_output.weight", true, kReq}, \
      TensorSpec{R::kFfnNorm, "blk.{}.ffn_norm.weight", true, kReq}, \
      TensorSpec{R::kFfnGate, "blk.{}.ffn_gate.weight", true, kReq}, \
      TensorSpec{R::kFfnUp, "blk.{}.ffn_up.weight", true, kReq}, \
      TensorSpec{R::kFfnDown, "blk.{}.ffn_down.weight", true, kReq}

constexpr std::array kLlamaTensors = {
    AUTARKY_COMMON_TENSORS,
    // Llama 3.1+ long-context frequency factors.
    TensorSpec{R::kRopeFreqs, "rope_freqs.weight", false, kOpt},
    // Some Llama-architecture fine-tunes carry attention biases.
    TensorSpec{R::kAttnQBias, "blk.{}.attn_q.bias", true, kOpt},
    TensorSpec{R::kAttnKBias, "blk.{}.attn_k.bias", true, kOpt},
    TensorSpec{R::kAttnVBias, "blk.{}.attn_v.bias", true, kOpt},
};

constexpr std::array kQwen2Tensors = {
    AUTARKY_COMMON_TENSORS,
    TensorSpec{R::kAttnQBias, "blk.{}.attn_q.bias", true, kReq},
    TensorSpec{R::kAttnKBias, "blk.{}.attn_k.bias", true, kReq},
    TensorSpec{R::kAttnVBias, "blk.{}.attn_v.bias", true, kReq},
};

constexpr std::array kQwen3Tensors = {
    AUTARKY_COMMON_TENSORS,
    TensorSpec{R::kAttnQNorm, "blk.{}.attn_q_norm.weight", true, kReq},
    TensorSpec{R::kAttnKNorm, "blk.{}.attn_k_norm.weight", true, kReq},
};

#undef AUTARKY_COMMON_TENSORS

constexpr std::array kArchTable = {
    ArchInfo{Arch::kLlama, "llama", ref::RopeStyle::kNormal, kLlamaTensors},
    ArchInfo{Arch::kQwen2, "qwen2", ref::RopeStyle::kNeox, kQwen2Tensors},
    ArchInfo{Arch::kQwen3, "qwen3", ref::RopeStyle::kNeox, kQwen3Tensors},
};

constexpr std::array<std::string_view, kNumTensorRoles> kRoleNames = {
    "token_embd", "output_norm", "output", "rope_freqs", "attn_norm", "attn_q",   "attn_k",   "attn_v",   "attn_q.bias",
    "attn_k.bias", "attn_v.bias", "attn_q_norm", "attn_k_norm", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down",
};

}  // namespace

const ArchInfo* find_arch(std::string_view name) {
  for (const auto& a : kArchTable) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

const ArchInfo& arch_info(Arch arch) {
  for (const auto& a : kArchTable) {
    if (a.arch == arch) return a;
  }
  AUTARKY_ASSERT(false, "arch {} missing from the table", static_cast<int>(arch));
  __builtin_unreachable();
}

std::string supported_arch_names() {
  std::string out;
  for (const auto& a : kArchTable) out += (out.empty() ? "" : ", ") + std::string(a.name);
  return out;
}

std::string tensor_name(const TensorSpec& spec, std::int64_t layer) {
  if (!spec.per_layer) return std::string(spec.pattern);
  return fmt::format(fmt::runtime(spec.pattern), layer);
}

std::string_view role_name(TensorRole role) { return kRoleNames[static_cast<std::size_t>(role)]; }

}  // namespace autarky

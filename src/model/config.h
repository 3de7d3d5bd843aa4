#pragma once
// Hyper-parameters of a model, read only from GGUF metadata ("{arch}.embedding_length", ...).
// Missing or inconsistent keys are load errors naming the key and its value.

#include <cstdint>
#include <string>

#include "gguf/gguf_file.h"
#include "model/arch.h"

namespace autarky {

struct ModelConfig {
  Arch arch = Arch::kLlama;
  std::string arch_name;
  std::int64_t n_vocab = 0;
  std::int64_t n_embd = 0;
  std::int64_t n_layer = 0;
  std::int64_t n_head = 0;
  std::int64_t n_head_kv = 0;
  std::int64_t head_dim_k = 0;  // attention.key_length; defaults to n_embd / n_head
  std::int64_t head_dim_v = 0;  // attention.value_length; defaults to n_embd / n_head
  std::int64_t n_ff = 0;
  std::int64_t n_ctx_train = 0;  // context_length: the longest context the model was trained for
  float rms_eps = 0.0f;
  float rope_freq_base = 10000.0f;
  std::int64_t n_rot = 0;          // rope.dimension_count; defaults to head_dim_k
  float rope_freq_scale = 1.0f;    // positions are multiplied by this (1 / linear scaling factor)
  ref::RopeStyle rope_style = ref::RopeStyle::kNormal;
  std::int32_t bos_token = -1;     // tokenizer.ggml.bos_token_id, -1 when absent
  std::int32_t eos_token = -1;
};

// Reads and validates the hyper-parameters; `f` must name a supported architecture.
ModelConfig load_config(const GgufFile& f);

}  // namespace autarky

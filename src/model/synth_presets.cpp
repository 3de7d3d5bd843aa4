#include "model/synth_presets.h"

#include <array>

#include <fmt/format.h>

namespace autarky {
namespace {

// Hyper-parameters from each model's config.json (hidden_size, num_hidden_layers,
// num_attention_heads, num_key_value_heads, intermediate_size, vocab_size, rope_theta,
// rms_norm_eps, tie_word_embeddings, max_position_embeddings). `tiny` matches the golden
// tiny-llama; `llama-1.1b` is the benchmark shape of issue 5 (TinyLlama-like widths, 16 layers).
constexpr std::array kPresets = {
    //          name            arch               general.name        vocab   ctx    embd  layer head kv  ff     rope  eps   tied
    SynthPreset{"tiny", SynthArch::kLlama, "synthetic-tiny-llama", 512, 2048, 256, 3, 8, 2, 768, 10000.0f, 1e-5f, false},
    SynthPreset{"llama-1.1b", SynthArch::kLlama, "synthetic-llama-1.1b", 32000, 2048, 2048, 16, 32, 8, 8192, 10000.0f,
                1e-5f, false},
    SynthPreset{"qwen2.5-0.5b", SynthArch::kQwen2, "synthetic-qwen2.5-0.5b", 151936, 32768, 896, 24, 14, 2, 4864,
                1000000.0f, 1e-6f, true},
    SynthPreset{"qwen2.5-1.5b", SynthArch::kQwen2, "synthetic-qwen2.5-1.5b", 151936, 32768, 1536, 28, 12, 2, 8960,
                1000000.0f, 1e-6f, true},
    SynthPreset{"llama-3.2-1b", SynthArch::kLlama, "synthetic-llama-3.2-1b", 128256, 131072, 2048, 16, 32, 8, 8192,
                500000.0f, 1e-5f, true},
    SynthPreset{"llama-2-7b", SynthArch::kLlama, "synthetic-llama-2-7b", 32000, 4096, 4096, 32, 32, 32, 11008, 10000.0f,
                1e-5f, false},
};

}  // namespace

const SynthPreset* find_synth_preset(std::string_view name) {
  for (const auto& p : kPresets) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<std::string_view> synth_preset_names() {
  std::vector<std::string_view> names;
  for (const auto& p : kPresets) names.push_back(p.name);
  return names;
}

std::string_view arch_name(SynthArch arch) { return arch == SynthArch::kQwen2 ? "qwen2" : "llama"; }

std::vector<SynthTensor> synth_tensor_list(const SynthPreset& p, std::int64_t n_vocab) {
  const std::int64_t q_dim = p.n_head * p.head_dim();
  const std::int64_t kv_dim = p.n_head_kv * p.head_dim();
  const bool biases = p.arch == SynthArch::kQwen2;  // Qwen2 has Q/K/V biases, no other biases
  std::vector<SynthTensor> t;
  t.push_back({"token_embd.weight", {p.n_embd, n_vocab}, SynthInit::kWeight});
  t.push_back({"output_norm.weight", {p.n_embd}, SynthInit::kNorm});
  if (!p.tied_embeddings) t.push_back({"output.weight", {p.n_embd, n_vocab}, SynthInit::kWeight});
  for (std::int64_t i = 0; i < p.n_layer; ++i) {
    auto name = [i](std::string_view what) { return fmt::format("blk.{}.{}", i, what); };
    t.push_back({name("attn_norm.weight"), {p.n_embd}, SynthInit::kNorm});
    t.push_back({name("attn_q.weight"), {p.n_embd, q_dim}, SynthInit::kWeight});
    t.push_back({name("attn_k.weight"), {p.n_embd, kv_dim}, SynthInit::kWeight});
    t.push_back({name("attn_v.weight"), {p.n_embd, kv_dim}, SynthInit::kWeight});
    if (biases) {
      t.push_back({name("attn_q.bias"), {q_dim}, SynthInit::kBias});
      t.push_back({name("attn_k.bias"), {kv_dim}, SynthInit::kBias});
      t.push_back({name("attn_v.bias"), {kv_dim}, SynthInit::kBias});
    }
    t.push_back({name("attn_output.weight"), {q_dim, p.n_embd}, SynthInit::kWeight});
    t.push_back({name("ffn_norm.weight"), {p.n_embd}, SynthInit::kNorm});
    t.push_back({name("ffn_gate.weight"), {p.n_embd, p.n_ff}, SynthInit::kWeight});
    t.push_back({name("ffn_up.weight"), {p.n_embd, p.n_ff}, SynthInit::kWeight});
    t.push_back({name("ffn_down.weight"), {p.n_ff, p.n_embd}, SynthInit::kWeight});
  }
  return t;
}

}  // namespace autarky

#include "model/config.h"

#include <fmt/format.h>

#include "base/error.h"

namespace autarky {
namespace {

// Reads "{arch}.{suffix}" so error messages name the exact key of the file.
struct ArchKeys {
  const GgufFile& f;
  std::string prefix;
  std::string key(std::string_view suffix) const { return prefix + "." + std::string(suffix); }
  std::int64_t positive_int(std::string_view suffix) const {
    std::string k = key(suffix);
    std::int64_t v = f.get_int(k);
    if (v <= 0) fail("{}: metadata {} = {} must be positive", f.path(), k, v);
    return v;
  }
  std::int64_t positive_int_or(std::string_view suffix, std::int64_t fallback) const {
    std::string k = key(suffix);
    std::int64_t v = f.get_int_or(k, fallback);
    if (v <= 0) fail("{}: metadata {} = {} must be positive", f.path(), k, v);
    return v;
  }
};

std::int64_t vocab_size(const GgufFile& f, const ArchKeys& keys) {
  if (f.find(keys.key("vocab_size"))) return keys.positive_int("vocab_size");
  if (f.find("tokenizer.ggml.tokens")) return static_cast<std::int64_t>(f.get_string_array("tokenizer.ggml.tokens").size());
  // Without a vocabulary in the metadata the embedding's row count is the only source left.
  const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
  if (!emb) fail("{}: no {}, tokenizer.ggml.tokens or token_embd.weight to size the vocabulary", f.path(), keys.key("vocab_size"));
  return emb->dim(1);
}

void apply_rope_scaling(const GgufFile& f, const ArchKeys& keys, ModelConfig& c) {
  std::string type = f.get_string_or(keys.key("rope.scaling.type"), "");
  double factor = f.get_float_or(keys.key("rope.scaling.factor"), 0.0);
  if (type.empty() && f.find(keys.key("rope.scale_linear"))) {  // older files
    type = "linear";
    factor = f.get_float(keys.key("rope.scale_linear"));
  }
  if (type.empty() || type == "none") return;
  if (type != "linear") {
    fail("{}: metadata {} = \"{}\" is not supported (only linear RoPE scaling)", f.path(), keys.key("rope.scaling.type"), type);
  }
  if (factor == 0.0 || factor == 1.0) return;
  if (factor < 0.0) fail("{}: metadata {} = {} must be positive", f.path(), keys.key("rope.scaling.factor"), factor);
  c.rope_freq_scale = static_cast<float>(1.0 / factor);
}

}  // namespace

ModelConfig load_config(const GgufFile& f) {
  const std::string arch_name = f.get_string("general.architecture");
  const ArchInfo* arch = find_arch(arch_name);
  if (!arch) fail("{}: architecture \"{}\" is not supported (supported: {})", f.path(), arch_name, supported_arch_names());
  ArchKeys keys{f, arch_name};

  ModelConfig c;
  c.arch = arch->arch;
  c.arch_name = arch_name;
  c.rope_style = arch->rope_style;
  c.n_embd = keys.positive_int("embedding_length");
  c.n_layer = keys.positive_int("block_count");
  c.n_ff = keys.positive_int("feed_forward_length");
  c.n_ctx_train = keys.positive_int("context_length");
  c.n_head = keys.positive_int("attention.head_count");
  c.n_head_kv = keys.positive_int_or("attention.head_count_kv", c.n_head);
  if (c.n_head % c.n_head_kv != 0) {
    fail("{}: metadata {} = {} is not a multiple of {} = {}", f.path(), keys.key("attention.head_count"), c.n_head,
         keys.key("attention.head_count_kv"), c.n_head_kv);
  }
  const bool has_k_len = f.find(keys.key("attention.key_length")) != nullptr;
  if (!has_k_len && c.n_embd % c.n_head != 0) {
    fail("{}: metadata {} = {} is not a multiple of {} = {} and {} is absent", f.path(), keys.key("embedding_length"),
         c.n_embd, keys.key("attention.head_count"), c.n_head, keys.key("attention.key_length"));
  }
  c.head_dim_k = keys.positive_int_or("attention.key_length", c.n_embd / c.n_head);
  c.head_dim_v = keys.positive_int_or("attention.value_length", c.n_embd / c.n_head);
  c.rms_eps = static_cast<float>(f.get_float(keys.key("attention.layer_norm_rms_epsilon")));
  if (!(c.rms_eps > 0.0f)) fail("{}: metadata {} = {} must be positive", f.path(), keys.key("attention.layer_norm_rms_epsilon"), c.rms_eps);
  c.rope_freq_base = static_cast<float>(f.get_float_or(keys.key("rope.freq_base"), 10000.0));
  if (!(c.rope_freq_base > 0.0f)) fail("{}: metadata {} = {} must be positive", f.path(), keys.key("rope.freq_base"), c.rope_freq_base);
  c.n_rot = keys.positive_int_or("rope.dimension_count", c.head_dim_k);
  if (c.n_rot > c.head_dim_k || c.n_rot % 2 != 0) {
    fail("{}: metadata {} = {} must be even and at most the head dimension {}", f.path(), keys.key("rope.dimension_count"),
         c.n_rot, c.head_dim_k);
  }
  apply_rope_scaling(f, keys, c);
  c.n_vocab = vocab_size(f, keys);
  c.bos_token = static_cast<std::int32_t>(f.get_int_or("tokenizer.ggml.bos_token_id", -1));
  c.eos_token = static_cast<std::int32_t>(f.get_int_or("tokenizer.ggml.eos_token_id", -1));
  return c;
}

}  // namespace autarky

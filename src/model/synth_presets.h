#pragma once
// Shapes of real models, for `autarky synth`: the hyper-parameters of each preset (from the
// models' published configs) and the tensor list llama.cpp expects for its architecture.
// The inference side has its own architecture tables; this file only describes what synth
// writes, so the two can be checked against each other.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace autarky {

enum class SynthArch { kLlama, kQwen2 };

struct SynthPreset {
  std::string_view name;
  SynthArch arch;
  std::string_view model_name;  // general.name
  std::int64_t n_vocab;         // used when no vocabulary file is given
  std::int64_t n_ctx;           // <arch>.context_length
  std::int64_t n_embd;
  std::int64_t n_layer;
  std::int64_t n_head;
  std::int64_t n_head_kv;
  std::int64_t n_ff;
  float rope_freq_base;
  float rms_eps;
  bool tied_embeddings;  // no output.weight: the token embedding doubles as output projection

  std::int64_t head_dim() const { return n_embd / n_head; }
};

const SynthPreset* find_synth_preset(std::string_view name);
std::vector<std::string_view> synth_preset_names();
std::string_view arch_name(SynthArch arch);  // general.architecture

// How a tensor's synthetic values are drawn.
enum class SynthInit {
  kWeight,  // N(0, 0.02), as common initialisers and trained weights of these sizes look
  kNorm,    // all ones (RMSNorm gains)
  kBias,    // N(0, 0.02) as well, but 1-D
};

struct SynthTensor {
  std::string name;
  std::vector<std::int64_t> ne;  // ne[0] fastest (a row)
  SynthInit init;
};

// Every tensor of the model in the order llama.cpp's converters write them.
std::vector<SynthTensor> synth_tensor_list(const SynthPreset& preset, std::int64_t n_vocab);

}  // namespace autarky

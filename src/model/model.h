#pragma once
// A loaded model: the memory-mapped GGUF file, its hyper-parameters, and every tensor the
// architecture needs bound by role to its bytes in the map (zero-copy), except the matmul
// weights whose kernel has a layout of its own (MatmulKernel::pack): those are repacked once at
// load into memory the model owns, and their pages in the map are released, so the weights are
// still held once. AUTARKY_REPACK=0 turns repacking off (every weight used from the map).

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "kernels/ref/ops_ref.h"
#include "kernels/weight_matrix.h"
#include "model/arch.h"
#include "model/config.h"
#include "platform/anonymous_memory.h"

namespace autarky {

// The tensors of one layer (or the model-wide ones), indexed by role. A 1-D tensor (norm weight,
// bias, frequency factors) is a WeightMatrix with n_out == 1 and F32 data.
class TensorSet {
 public:
  bool has(TensorRole role) const { return slots_[index(role)].data != nullptr; }
  const WeightMatrix& matrix(TensorRole role) const { return slots_[index(role)]; }
  // F32 vector data or nullptr when the (optional) tensor is absent.
  const float* vector(TensorRole role) const { return reinterpret_cast<const float*>(slots_[index(role)].data); }
  void set(TensorRole role, const WeightMatrix& w) { slots_[index(role)] = w; }
  WeightMatrix& mutable_matrix(TensorRole role) { return slots_[index(role)]; }

 private:
  static std::size_t index(TensorRole r) { return static_cast<std::size_t>(r); }
  std::array<WeightMatrix, kNumTensorRoles> slots_{};
};

class Model {
 public:
  // Opens, validates and binds; throws Error naming the file and the key/tensor at fault.
  static Model load(const std::string& path);
  static Model from_file(GgufFile file);

  Model(Model&&) = default;
  Model& operator=(Model&&) = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelConfig& config() const { return config_; }
  const GgufFile& file() const { return file_; }
  const TensorSet& globals() const { return globals_; }
  const TensorSet& layer(std::int64_t i) const { return layers_[static_cast<std::size_t>(i)]; }
  // Output projection: output.weight, or the token embedding when the model ties them.
  const WeightMatrix& output() const;
  ref::RopeParams rope_params() const { return {config_.rope_style, config_.n_rot, rope_inv_freq_}; }

 private:
  explicit Model(GgufFile file);
  void bind_tensors();
  void build_rope_table();
  void repack_weights();

  GgufFile file_;
  ModelConfig config_;
  TensorSet globals_;
  std::vector<TensorSet> layers_;      // [n_layer]
  std::vector<float> rope_inv_freq_;   // [n_rot / 2] angle per position of each rotated pair
  AnonymousMemory repacked_;           // weights in their kernel's layout (see repack_weights)
};

}  // namespace autarky

#pragma once
// A loaded model: the memory-mapped GGUF file, its hyper-parameters, and every tensor the
// architecture needs bound by role to its bytes in the map (zero-copy), except the 1-D tensors
// (norms, biases: copied, see copy_vectors_out_of_map) and the matmul
// weights whose kernel has a layout of its own (MatmulKernel::pack): those are repacked into
// memory the model owns, and their pages in the map are released, so the weights are still held
// once. Repacking runs in the background after loading (the first tokens are computed from the
// file's rows, which give the same results, MatmulKernel::packed_rows); each weight switches to
// its repacked copy as soon as that is complete. AUTARKY_REPACK=sync repacks before load()
// returns, AUTARKY_REPACK=0 not at all (every weight used from the map).

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/aligned_buffer.h"
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
  TensorSet() = default;
  // Copies are made while binding, before any repacking starts.
  TensorSet(const TensorSet& o)
      : slots_(o.slots_), repacked_(o.repacked_), ready_(o.ready_.load(std::memory_order_relaxed)) {}
  TensorSet& operator=(const TensorSet& o) {
    slots_ = o.slots_;
    repacked_ = o.repacked_;
    ready_.store(o.ready_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    return *this;
  }

  bool has(TensorRole role) const { return slots_[index(role)].data != nullptr; }
  // The matrix to compute with: its repacked copy once published, the file's rows until then
  // (both give the same results). Safe to call while the model repacks in the background.
  const WeightMatrix& matrix(TensorRole role) const {
    const std::size_t i = index(role);
    return (ready_.load(std::memory_order_acquire) >> i) & 1u ? repacked_[i] : slots_[i];
  }
  // The tensor as it lies in the file.
  const WeightMatrix& file_matrix(TensorRole role) const { return slots_[index(role)]; }
  // F32 vector data or nullptr when the (optional) tensor is absent.
  const float* vector(TensorRole role) const { return reinterpret_cast<const float*>(slots_[index(role)].data); }
  void set(TensorRole role, const WeightMatrix& w) { slots_[index(role)] = w; }
  // matrix(role) returns `w` from now on, in every thread (w is written before the flag that
  // makes readers take it). One publisher at a time.
  void publish_repacked(TensorRole role, const WeightMatrix& w) {
    repacked_[index(role)] = w;
    ready_.fetch_or(1u << index(role), std::memory_order_release);
  }

 private:
  static std::size_t index(TensorRole r) { return static_cast<std::size_t>(r); }
  static_assert(kNumTensorRoles <= 32, "ready_ has a bit per role");
  std::array<WeightMatrix, kNumTensorRoles> slots_{};
  std::array<WeightMatrix, kNumTensorRoles> repacked_{};
  std::atomic<std::uint32_t> ready_{0};  // bit i: repacked_[i] is published
};

class Model {
 public:
  // Opens, validates and binds; throws Error naming the file and the key/tensor at fault.
  static Model load(const std::string& path);
  static Model from_file(GgufFile file);

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  ~Model();  // stops the background repacking first

  const ModelConfig& config() const { return config_; }
  const GgufFile& file() const { return file_; }
  const TensorSet& globals() const { return *globals_; }
  const TensorSet& layer(std::int64_t i) const { return layers_[static_cast<std::size_t>(i)]; }
  // Output projection: output.weight, or the token embedding when the model ties them.
  const WeightMatrix& output() const;
  ref::RopeParams rope_params() const { return {config_.rope_style, config_.n_rot, rope_inv_freq_}; }
  // Returns once every weight to repack has its repacked copy published (at once when nothing
  // repacks in the background): for measurements that should not include the repacking.
  void wait_until_repacked() const;

 private:
  explicit Model(GgufFile file);
  void bind_tensors();
  void copy_vectors_out_of_map(const std::vector<std::pair<TensorSet*, TensorRole>>& vectors);
  void build_rope_table();
  void repack_weights();

  class Repacker;
  // First member: a move-assignment stops the target's repacking before replacing what it reads.
  // What it writes (the TensorSets, the repacked memory) is on the heap and in maps, which a move
  // of the Model does not move.
  std::unique_ptr<Repacker> repacker_;
  GgufFile file_;
  ModelConfig config_;
  std::unique_ptr<TensorSet> globals_ = std::make_unique<TensorSet>();
  std::vector<TensorSet> layers_;      // [n_layer]
  std::vector<float> rope_inv_freq_;   // [n_rot / 2] angle per position of each rotated pair
  AlignedBuffer owned_vectors_;        // the 1-D tensors, copied out of the map (copy_vectors_out_of_map)
  AnonymousMemory repacked_;           // weights in their kernel's layout (see repack_weights)
};

}  // namespace autarky

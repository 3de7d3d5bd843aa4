#include "model/model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "base/error.h"
#include "base/log.h"
#include "kernels/matmul.h"
#include "platform/thread_pool.h"
#include "tensor/type_traits.h"

namespace autarky {
namespace {

struct Shape {
  std::int64_t ne0 = 0;
  std::int64_t ne1 = 0;  // 0: a 1-D tensor
};

// The shape every role must have, derived from the hyper-parameters. This is the one place that
// says how the tensors of a layer fit together.
Shape expected_shape(TensorRole role, const ModelConfig& c) {
  const std::int64_t q_width = c.n_head * c.head_dim_k;
  const std::int64_t k_width = c.n_head_kv * c.head_dim_k;
  const std::int64_t v_width = c.n_head_kv * c.head_dim_v;
  switch (role) {
    case TensorRole::kTokenEmbd: return {c.n_embd, c.n_vocab};
    case TensorRole::kOutput: return {c.n_embd, c.n_vocab};
    case TensorRole::kOutputNorm: return {c.n_embd, 0};
    case TensorRole::kRopeFreqs: return {c.n_rot / 2, 0};
    case TensorRole::kAttnNorm: return {c.n_embd, 0};
    case TensorRole::kAttnQ: return {c.n_embd, q_width};
    case TensorRole::kAttnK: return {c.n_embd, k_width};
    case TensorRole::kAttnV: return {c.n_embd, v_width};
    case TensorRole::kAttnQBias: return {q_width, 0};
    case TensorRole::kAttnKBias: return {k_width, 0};
    case TensorRole::kAttnVBias: return {v_width, 0};
    case TensorRole::kAttnQNorm: return {c.head_dim_k, 0};
    case TensorRole::kAttnKNorm: return {c.head_dim_k, 0};
    case TensorRole::kAttnOut: return {c.n_head * c.head_dim_v, c.n_embd};
    case TensorRole::kFfnNorm: return {c.n_embd, 0};
    case TensorRole::kFfnGate: return {c.n_embd, c.n_ff};
    case TensorRole::kFfnUp: return {c.n_embd, c.n_ff};
    case TensorRole::kFfnDown: return {c.n_ff, c.n_embd};
  }
  AUTARKY_ASSERT(false, "role {} has no shape", static_cast<int>(role));
  __builtin_unreachable();
}

std::string shape_string(const Shape& s) {
  return s.ne1 == 0 ? fmt::format("[{}]", s.ne0) : fmt::format("[{}, {}]", s.ne0, s.ne1);
}

WeightMatrix bind(const GgufFile& f, const GgufTensorInfo& t, const Shape& want) {
  const bool is_vector = want.ne1 == 0;
  const bool shape_ok = is_vector ? (t.ne.size() == 1 && t.ne[0] == want.ne0)
                                  : (t.ne.size() == 2 && t.ne[0] == want.ne0 && t.ne[1] == want.ne1);
  if (!shape_ok) {
    fail("{}: tensor {} has shape {}, expected {} from the model's hyper-parameters", f.path(), t.name,
         t.shape_string(), shape_string(want));
  }
  if (is_vector && t.type != DType::F32) {
    fail("{}: tensor {} has type {}, expected F32 for a 1-D tensor", f.path(), t.name, dtype_name(t.type));
  }
  if (!can_dequantize(t.type)) {
    fail("{}: tensor {} has type {}, which this build cannot compute with yet", f.path(), t.name, dtype_name(t.type));
  }
  WeightMatrix w;
  w.type = t.type;
  w.data = t.data.data();
  w.n_in = t.ne[0];
  w.n_out = is_vector ? 1 : t.ne[1];
  w.row_bytes = row_bytes(t.type, t.ne[0]);
  return w;
}

}  // namespace

Model Model::load(const std::string& path) { return from_file(GgufFile::open(path)); }

Model Model::from_file(GgufFile file) { return Model(std::move(file)); }

Model::Model(GgufFile file) : file_(std::move(file)), config_(load_config(file_)) {
  bind_tensors();
  build_rope_table();
  repack_weights();
}

void Model::bind_tensors() {
  const ArchInfo& arch = arch_info(config_.arch);
  layers_.assign(static_cast<std::size_t>(config_.n_layer), TensorSet{});
  for (const TensorSpec& spec : arch.tensors) {
    const std::int64_t n = spec.per_layer ? config_.n_layer : 1;
    for (std::int64_t il = 0; il < n; ++il) {
      const std::string name = tensor_name(spec, il);
      const GgufTensorInfo* t = file_.find_tensor(name);
      if (!t) {
        if (spec.presence == Presence::kRequired) {
          fail("{}: tensor {} is missing (required by architecture {})", file_.path(), name, arch.name);
        }
        continue;
      }
      WeightMatrix w = bind(file_, *t, expected_shape(spec.role, config_));
      (spec.per_layer ? layers_[static_cast<std::size_t>(il)] : globals_).set(spec.role, w);
    }
  }
  // Biases come in threes or not at all: a half-present set means a broken conversion.
  for (std::int64_t il = 0; il < config_.n_layer; ++il) {
    const TensorSet& l = layers_[static_cast<std::size_t>(il)];
    const int n_bias = l.has(TensorRole::kAttnQBias) + l.has(TensorRole::kAttnKBias) + l.has(TensorRole::kAttnVBias);
    if (n_bias != 0 && n_bias != 3) fail("{}: layer {} has {} of the 3 attention bias tensors", file_.path(), il, n_bias);
  }
}

namespace {
// AUTARKY_REPACK=0 (or "off", "false") keeps every weight in the file map, e.g. for processes that
// should share one page-cache copy of a model.
bool repack_enabled() {
  const char* env = std::getenv("AUTARKY_REPACK");
  if (env == nullptr) return true;
  return std::strcmp(env, "0") != 0 && std::strcmp(env, "off") != 0 && std::strcmp(env, "false") != 0;
}

// The roles only matmul reads. The token embedding is read by rows (and may double as the output
// projection), so it always stays as it is in the file.
constexpr TensorRole kMatmulRoles[] = {TensorRole::kAttnQ,   TensorRole::kAttnK,  TensorRole::kAttnV,
                                       TensorRole::kAttnOut, TensorRole::kFfnGate, TensorRole::kFfnUp,
                                       TensorRole::kFfnDown, TensorRole::kOutput};

constexpr std::uint64_t kRepackStepBytes = std::uint64_t{4} << 20;
}  // namespace

void Model::repack_weights() {
  if (!repack_enabled()) return;
  const auto start = std::chrono::steady_clock::now();
  // The tensors to repack and where each goes in one allocation (64-byte aligned offsets).
  struct Job {
    WeightMatrix* w;
    MatmulKernel kernel;
    std::uint64_t offset;
  };
  std::vector<Job> jobs;
  std::uint64_t total = 0;
  auto plan = [&](TensorSet& set) {
    for (TensorRole role : kMatmulRoles) {
      if (!set.has(role)) continue;
      WeightMatrix& w = set.mutable_matrix(role);
      const MatmulKernel kernel = select_matmul_kernel(w.type);
      if (kernel.pack == nullptr || kernel.packed_rows == nullptr) continue;
      jobs.push_back({&w, kernel, total});
      total += (kernel.packed_bytes(w) + 63) / 64 * 64;
    }
  };
  plan(globals_);
  for (TensorSet& layer : layers_) plan(layer);
  if (jobs.empty()) return;

  repacked_ = AnonymousMemory::allocate(total);
  ThreadPool pool;
  for (const Job& job : jobs) {
    const WeightMatrix source = *job.w;
    std::uint8_t* out = repacked_.data() + job.offset;
    // In steps of about kRepackStepBytes of the file's rows, each step's pages in the map released
    // once packed, so that only a step, not a whole tensor (a 1B model's output projection is
    // 54 MB), is ever held twice: peak memory stays at the model's size plus a few MiB.
    const std::int64_t m = std::max<std::int64_t>(job.kernel.row_multiple, 1);
    const std::int64_t step = std::max<std::int64_t>(m, static_cast<std::int64_t>(kRepackStepBytes / source.row_bytes) / m * m);
    for (std::int64_t r = 0; r < source.n_out; r += step) {
      const std::int64_t end = std::min(r + step, source.n_out);
      repack_rows_into(job.kernel, pool, source, out, r, end);
      file_.drop_pages({source.row(r), static_cast<std::size_t>(source.row_bytes * static_cast<std::uint64_t>(end - r))});
    }
    // The pages that straddled two steps.
    file_.drop_pages({source.data, static_cast<std::size_t>(source.row_bytes * static_cast<std::uint64_t>(source.n_out))});
    *job.w = repacked_matrix(source, out);
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  AUTARKY_LOG_DEBUG("{}: repacked {} weight tensors ({:.1f} MiB) for their kernels in {:.0f} ms", file_.path(),
                    jobs.size(), static_cast<double>(total) / (1 << 20), ms);
}

const WeightMatrix& Model::output() const {
  return globals_.has(TensorRole::kOutput) ? globals_.matrix(TensorRole::kOutput) : globals_.matrix(TensorRole::kTokenEmbd);
}

void Model::build_rope_table() {
  const std::int64_t half = config_.n_rot / 2;
  rope_inv_freq_.resize(static_cast<std::size_t>(half));
  const float* factors = globals_.vector(TensorRole::kRopeFreqs);  // Llama 3 long-context factors
  // Pair i turns by base^(-2i/n_rot) radians per position; built by repeated multiplication in
  // float, the way the reference implementations accumulate it, so angles agree to the last bit.
  const float step = std::pow(config_.rope_freq_base, -2.0f / static_cast<float>(config_.n_rot));
  float freq = 1.0f;
  for (std::int64_t i = 0; i < half; ++i) {
    float f = freq * config_.rope_freq_scale;
    if (factors) f /= factors[i];
    rope_inv_freq_[static_cast<std::size_t>(i)] = f;
    freq *= step;
  }
}

}  // namespace autarky

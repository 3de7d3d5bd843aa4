#include "model/model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include <sys/resource.h>

#include "base/error.h"
#include "base/log.h"
#include "kernels/matmul.h"
#include "platform/mapped_file.h"
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
  std::vector<std::pair<TensorSet*, TensorRole>> vectors;
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
      const Shape shape = expected_shape(spec.role, config_);
      TensorSet& set = spec.per_layer ? layers_[static_cast<std::size_t>(il)] : *globals_;
      set.set(spec.role, bind(file_, *t, shape));
      if (shape.ne1 == 0) vectors.push_back({&set, spec.role});
    }
  }
  copy_vectors_out_of_map(vectors);
  // Biases come in threes or not at all: a half-present set means a broken conversion.
  for (std::int64_t il = 0; il < config_.n_layer; ++il) {
    const TensorSet& l = layers_[static_cast<std::size_t>(il)];
    const int n_bias = l.has(TensorRole::kAttnQBias) + l.has(TensorRole::kAttnKBias) + l.has(TensorRole::kAttnVBias);
    if (n_bias != 0 && n_bias != 3) fail("{}: layer {} has {} of the 3 attention bias tensors", file_.path(), il, n_bias);
  }
}

// Norm weights, biases and frequency factors are a few KiB each, between weights of many MiB. Read
// from the map, each would keep the file's pages around it mapped for the whole run: up to 2 MiB
// apiece where the page cache holds the file in large folios and a fault maps a whole one (64 MiB
// of a 1.1B model's 33 norms, measured). They are copied once, and their pages released.
void Model::copy_vectors_out_of_map(const std::vector<std::pair<TensorSet*, TensorRole>>& vectors) {
  constexpr std::size_t kAlign = AlignedBuffer::kAlignment;
  std::size_t total = 0;
  for (const auto& [set, role] : vectors) total += (set->file_matrix(role).row_bytes + kAlign - 1) / kAlign * kAlign;
  owned_vectors_ = AlignedBuffer(total);
  std::size_t offset = 0;
  for (const auto& [set, role] : vectors) {
    WeightMatrix w = set->file_matrix(role);
    const std::span<const std::uint8_t> in_map{w.data, static_cast<std::size_t>(w.row_bytes)};
    std::memcpy(owned_vectors_.data() + offset, in_map.data(), in_map.size());
    MappedFile::drop_pages_of(file_.mapped_bytes(), in_map);
    w.data = owned_vectors_.data() + offset;
    set->set(role, w);
    offset += (in_map.size() + kAlign - 1) / kAlign * kAlign;
  }
}

namespace {
enum class RepackMode { kOff, kBackground, kSync };

// AUTARKY_REPACK: unset (or anything else) repacks in the background; "sync" before load()
// returns; "0" (or "off", "false") keeps every weight in the file map, e.g. for processes that
// should share one page-cache copy of a model.
RepackMode repack_mode() {
  const char* env = std::getenv("AUTARKY_REPACK");
  if (env == nullptr) return RepackMode::kBackground;
  if (std::strcmp(env, "0") == 0 || std::strcmp(env, "off") == 0 || std::strcmp(env, "false") == 0) {
    return RepackMode::kOff;
  }
  return std::strcmp(env, "sync") == 0 ? RepackMode::kSync : RepackMode::kBackground;
}

// The roles only matmul reads. The token embedding is read by rows (and may double as the output
// projection), so it always stays as it is in the file.
constexpr TensorRole kMatmulRoles[] = {TensorRole::kAttnQ,   TensorRole::kAttnK,  TensorRole::kAttnV,
                                       TensorRole::kAttnOut, TensorRole::kFfnGate, TensorRole::kFfnUp,
                                       TensorRole::kFfnDown, TensorRole::kOutput};

constexpr std::uint64_t kRepackStepBytes = std::uint64_t{4} << 20;
}  // namespace

// Repacks the planned tensors one after the other, on the loading thread (sync) or on a thread of
// its own, and publishes each one's copy in its TensorSet when it is complete.
//
// Memory: each ~4 MiB step's pages in the file map are released once packed, so a tensor is not
// held twice while it is packed. A forward pass in flight may still read the file's rows of a
// tensor (they are what it computes with until the copy is published) and so map some of those
// pages again: the whole tensor's range is released again when it is published, and all ranges
// once more at the end.
class Model::Repacker {
 public:
  struct Job {
    TensorSet* set;
    TensorRole role;
    MatmulKernel kernel;
    std::uint8_t* out;
  };

  Repacker(std::vector<Job> jobs, std::span<const std::uint8_t> map, std::string path, std::uint64_t total_bytes)
      : jobs_(std::move(jobs)), map_(map), path_(std::move(path)), total_bytes_(total_bytes) {}

  ~Repacker() {
    stop_.store(true, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
  }

  void run_here() {
    ThreadPool pool;  // the loading thread waits anyway: every core
    run(pool);
  }

  void start_thread() {
    thread_ = std::thread([this] {
      // Below the threads that compute the first tokens meanwhile: on Linux a thread has a nice
      // value of its own, and `who` 0 is the calling thread. A hint: failure changes nothing.
      (void)::setpriority(PRIO_PROCESS, 0, 10);
      ThreadPool pool(1);
      run(pool);
    });
  }

  void wait() const {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [this] { return done_; });
  }

 private:
  void drop(const WeightMatrix& source, std::int64_t begin, std::int64_t end) const {
    MappedFile::drop_pages_of(map_, {source.row(begin), static_cast<std::size_t>(source.row_bytes *
                                                                                 static_cast<std::uint64_t>(end - begin))});
  }

  void run(ThreadPool& pool) {
    const auto start = std::chrono::steady_clock::now();
    std::size_t published = 0;
    try {
      for (const Job& job : jobs_) {
        const WeightMatrix source = job.set->file_matrix(job.role);
        const std::int64_t m = std::max<std::int64_t>(job.kernel.row_multiple, 1);
        const std::int64_t step =
            std::max<std::int64_t>(m, static_cast<std::int64_t>(kRepackStepBytes / source.row_bytes) / m * m);
        for (std::int64_t r = 0; r < source.n_out && !stop_.load(std::memory_order_relaxed); r += step) {
          const std::int64_t end = std::min(r + step, source.n_out);
          repack_rows_into(job.kernel, pool, source, job.out, r, end);
          drop(source, r, end);
        }
        if (stop_.load(std::memory_order_relaxed)) break;
        job.set->publish_repacked(job.role, repacked_matrix(source, job.out));
        drop(source, 0, source.n_out);  // also the pages that straddled two steps
        ++published;
      }
      for (const Job& job : jobs_) {
        const WeightMatrix& source = job.set->file_matrix(job.role);
        drop(source, 0, source.n_out);
      }
    } catch (const std::exception& e) {
      // Unpublished weights stay in the file's layout, which computes the same results.
      AUTARKY_LOG_WARN("{}: repacking stopped: {}", path_, e.what());
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    AUTARKY_LOG_DEBUG("{}: repacked {} of {} weight tensors ({:.1f} MiB) for their kernels in {:.0f} ms", path_,
                      published, jobs_.size(), static_cast<double>(total_bytes_) / (1 << 20), ms);
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    done_cv_.notify_all();
  }

  std::vector<Job> jobs_;
  std::span<const std::uint8_t> map_;
  std::string path_;
  std::uint64_t total_bytes_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;
};

Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() { repacker_.reset(); }

void Model::wait_until_repacked() const {
  if (repacker_) repacker_->wait();
}

void Model::repack_weights() {
  const RepackMode mode = repack_mode();
  if (mode == RepackMode::kOff) return;
  // The tensors to repack and where each goes in one allocation (64-byte aligned offsets).
  struct Planned {
    TensorSet* set;
    TensorRole role;
    MatmulKernel kernel;
    std::uint64_t offset;
  };
  std::vector<Planned> planned;
  std::uint64_t total = 0;
  auto plan = [&](TensorSet& set) {
    for (TensorRole role : kMatmulRoles) {
      if (!set.has(role)) continue;
      const WeightMatrix& w = set.file_matrix(role);
      const MatmulKernel kernel = select_matmul_kernel(w.type);
      if (kernel.pack == nullptr || kernel.packed_rows == nullptr) continue;
      planned.push_back({&set, role, kernel, total});
      total += (kernel.packed_bytes(w) + 63) / 64 * 64;
    }
  };
  plan(*globals_);
  for (TensorSet& layer : layers_) plan(layer);
  if (planned.empty()) return;

  repacked_ = AnonymousMemory::allocate(total);
  std::vector<Repacker::Job> jobs;
  for (const Planned& p : planned) jobs.push_back({p.set, p.role, p.kernel, repacked_.data() + p.offset});
  repacker_ = std::make_unique<Repacker>(std::move(jobs), file_.mapped_bytes(), file_.path(), total);
  if (mode == RepackMode::kSync) {
    repacker_->run_here();
  } else {
    repacker_->start_thread();
  }
}

const WeightMatrix& Model::output() const {
  return globals_->has(TensorRole::kOutput) ? globals_->matrix(TensorRole::kOutput)
                                           : globals_->matrix(TensorRole::kTokenEmbd);
}

void Model::build_rope_table() {
  const std::int64_t half = config_.n_rot / 2;
  rope_inv_freq_.resize(static_cast<std::size_t>(half));
  const float* factors = globals_->vector(TensorRole::kRopeFreqs);  // Llama 3 long-context factors
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

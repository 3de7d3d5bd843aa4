#include "model/synth_model.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <thread>
#include <vector>

#include "base/error.h"
#include "model/quantize_model.h"
#include "tensor/convert.h"

namespace autarky {
namespace {

// splitmix64: tiny, statistically solid, and seekable -- every row gets its own stream, so rows
// can be drawn in any order or on any thread and still give the same values.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t state) : state_(state) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in (0, 1]: never 0, so log() below is finite.
  double uniform() { return (static_cast<double>(next() >> 11) + 1.0) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

constexpr float kWeightStd = 0.02f;

// Fills rows [row_begin, row_end) of a tensor, row-major: out[(r - row_begin) * ne0 + i].
void fill_rows(const SynthTensor& t, std::uint64_t seed, std::int64_t row_begin, std::int64_t row_end, float* out) {
  const std::int64_t ne0 = t.ne[0];
  if (t.init == SynthInit::kNorm) {
    std::fill(out, out + (row_end - row_begin) * ne0, 1.0f);
    return;
  }
  const std::uint64_t tensor_stream = SplitMix64(seed ^ fnv1a(t.name)).next();
  for (std::int64_t r = row_begin; r < row_end; ++r) {
    SplitMix64 rng(tensor_stream + static_cast<std::uint64_t>(r) * 0xd1b54a32d192ed03ull);
    float* row = out + (r - row_begin) * ne0;
    // Box-Muller: two normal draws per pair of uniforms.
    for (std::int64_t i = 0; i < ne0; i += 2) {
      double radius = std::sqrt(-2.0 * std::log(rng.uniform()));
      double angle = 2.0 * std::numbers::pi * rng.uniform();
      row[i] = kWeightStd * static_cast<float>(radius * std::cos(angle));
      if (i + 1 < ne0) row[i + 1] = kWeightStd * static_cast<float>(radius * std::sin(angle));
    }
  }
}

void parallel_rows(std::int64_t n_rows, int n_threads, const std::function<void(std::int64_t, std::int64_t)>& fn) {
  n_threads = std::max(1, static_cast<int>(std::min<std::int64_t>(n_threads, n_rows)));
  if (n_threads == 1) return fn(0, n_rows);
  std::vector<std::thread> threads;
  const std::int64_t per = (n_rows + n_threads - 1) / n_threads;
  for (int i = 1; i < n_threads; ++i) {
    std::int64_t b = std::min(n_rows, i * per), e = std::min(n_rows, (i + 1) * per);
    threads.emplace_back([&fn, b, e] { fn(b, e); });  // fill_rows cannot throw
  }
  fn(0, std::min(n_rows, per));
  for (auto& th : threads) th.join();
}

// Draws and converts a tensor a chunk of rows at a time, into the writer's buffer.
GgufWriter::DataSource tensor_source(SynthTensor t, DType type, std::uint64_t seed, int n_threads) {
  return [t = std::move(t), type, seed, n_threads](std::span<std::uint8_t> out) {
    const std::int64_t ne0 = t.ne[0];
    std::int64_t n_rows = 1;
    for (std::size_t d = 1; d < t.ne.size(); ++d) n_rows *= t.ne[d];
    const std::uint64_t bytes_per_row = row_bytes(type, ne0);
    const std::int64_t chunk_rows = std::max<std::int64_t>(1, (std::int64_t{1} << 20) / ne0);
    std::vector<float> rows(static_cast<std::size_t>(std::min(chunk_rows, n_rows) * ne0));  // [chunk_rows][ne0]
    for (std::int64_t r0 = 0; r0 < n_rows; r0 += chunk_rows) {
      const std::int64_t r1 = std::min(n_rows, r0 + chunk_rows);
      parallel_rows(r1 - r0, n_threads,
                    [&](std::int64_t b, std::int64_t e) { fill_rows(t, seed, r0 + b, r0 + e, rows.data() + b * ne0); });
      quantize(type, rows.data(), out.data() + r0 * bytes_per_row, r1 - r0, ne0, n_threads);
    }
  };
}

// A SentencePiece-style vocabulary of n tokens: unk/bos/eos, the 256 byte tokens, then pieces.
void set_synthetic_vocab(GgufWriter& w, std::int64_t n_vocab) {
  GgufArray tokens{GgufType::STRING, {}};
  GgufArray scores{GgufType::FLOAT32, {}};
  GgufArray types{GgufType::INT32, {}};
  auto add = [&](std::string text, float score, std::int32_t type) {
    tokens.items.push_back(std::move(text));
    scores.items.push_back(score);
    types.items.push_back(type);
  };
  // Token types as llama.cpp numbers them: 1 normal, 2 unknown, 3 control, 6 byte.
  add("<unk>", 0, 2);
  add("<s>", 0, 3);
  add("</s>", 0, 3);
  for (int b = 0; b < 256 && static_cast<std::int64_t>(tokens.items.size()) < n_vocab; ++b) {
    add(fmt::format("<0x{:02X}>", b), 0, 6);
  }
  for (std::int64_t i = 0; static_cast<std::int64_t>(tokens.items.size()) < n_vocab; ++i) {
    std::string piece = i % 2 == 0 ? "\xe2\x96\x81" : "";  // "▁" marks a word start
    for (std::int64_t x = i / 2;; x = x / 26 - 1) {
      piece += static_cast<char>('a' + x % 26);
      if (x < 26) break;
    }
    add(std::move(piece), -static_cast<float>(i), 1);
  }
  w.set("tokenizer.ggml.tokens", std::move(tokens));
  w.set("tokenizer.ggml.scores", std::move(scores));
  w.set("tokenizer.ggml.token_type", std::move(types));
  w.set("tokenizer.ggml.model", std::string("llama"));
  w.set("tokenizer.ggml.unknown_token_id", std::uint32_t{0});
  w.set("tokenizer.ggml.bos_token_id", std::uint32_t{1});
  w.set("tokenizer.ggml.eos_token_id", std::uint32_t{2});
}

std::int64_t copy_vocab(GgufWriter& w, const GgufFile& vocab) {
  const GgufValue* tokens = vocab.find("tokenizer.ggml.tokens");
  if (!tokens || !tokens->as_array() || tokens->as_array()->items.empty()) {
    fail("{}: no tokenizer.ggml.tokens array: not a vocabulary file", vocab.path());
  }
  for (const auto& kv : vocab.metadata()) {
    if (kv.key.starts_with("tokenizer.")) w.set(kv.key, kv.value);
  }
  return static_cast<std::int64_t>(tokens->as_array()->items.size());
}

}  // namespace

void synthesize_model(const SynthPreset& p, const QuantRecipe& recipe, const std::string& out_path,
                      const SynthOptions& options) {
  const std::string arch(arch_name(p.arch));
  const int n_threads = options.n_threads > 0 ? options.n_threads
                                              : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  GgufWriter w;
  w.set("general.architecture", arch);
  w.set("general.name", std::string(p.model_name));
  auto u32 = [](std::int64_t v) { return static_cast<std::uint32_t>(v); };
  w.set(arch + ".context_length", u32(p.n_ctx));
  w.set(arch + ".embedding_length", u32(p.n_embd));
  w.set(arch + ".block_count", u32(p.n_layer));
  w.set(arch + ".feed_forward_length", u32(p.n_ff));
  w.set(arch + ".attention.head_count", u32(p.n_head));
  w.set(arch + ".attention.head_count_kv", u32(p.n_head_kv));
  w.set(arch + ".attention.layer_norm_rms_epsilon", p.rms_eps);
  w.set(arch + ".rope.freq_base", p.rope_freq_base);
  w.set(arch + ".rope.dimension_count", u32(p.head_dim()));
  w.set("general.file_type", recipe.file_type);
  std::int64_t n_vocab = options.vocab ? copy_vocab(w, *options.vocab) : p.n_vocab;
  if (!options.vocab) set_synthetic_vocab(w, n_vocab);
  // Converters write F32 files without a quantization version; the quantizer adds it.
  if (recipe.base != DType::F32) set_quantization_metadata(w, recipe);

  std::vector<SynthTensor> tensors = synth_tensor_list(p, n_vocab);
  std::vector<TensorPlanInput> plan_inputs;
  for (const auto& t : tensors) plan_inputs.push_back({t.name, t.ne, DType::F32});
  std::vector<DType> types = plan_tensor_types(recipe, plan_inputs, static_cast<int>(p.n_head / p.n_head_kv));
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    w.add_tensor(tensors[i].name, types[i], tensors[i].ne, tensor_source(tensors[i], types[i], options.seed, n_threads));
  }
  w.write(out_path, options.progress);
}

}  // namespace autarky

#include "engine/bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "base/error.h"
#include "model/quantize_recipes.h"

namespace autarky::bench {

std::string TestSpec::name() const {
  std::string s = n_prompt > 0 ? fmt::format("pp{}", n_prompt) : fmt::format("tg{}", n_gen);
  if (depth > 0) s += fmt::format("@d{}", depth);
  return s;
}

std::vector<TestSpec> plan_tests(const std::vector<std::int64_t>& prompts, const std::vector<std::int64_t>& gens,
                                 const std::vector<std::int64_t>& depths) {
  std::vector<TestSpec> tests;
  for (std::int64_t d : depths) {
    for (std::int64_t p : prompts) {
      if (p > 0) tests.push_back({p, 0, d});
    }
    for (std::int64_t n : gens) {
      if (n > 0) tests.push_back({0, n, d});
    }
  }
  return tests;
}

std::int64_t context_needed(const std::vector<TestSpec>& tests) {
  std::int64_t n = 1;  // the start-up token
  for (const TestSpec& t : tests) n = std::max(n, t.depth + t.n_tokens());
  return n;
}

MeanStddev mean_stddev(const std::vector<double>& values) {
  MeanStddev r;
  if (values.empty()) return r;
  double sum = 0.0;
  for (double v : values) sum += v;
  r.mean = sum / static_cast<double>(values.size());
  if (values.size() < 2) return r;
  double sq = 0.0;
  for (double v : values) sq += (v - r.mean) * (v - r.mean);
  r.stddev = std::sqrt(sq / static_cast<double>(values.size() - 1));
  return r;
}

Runner::Runner(const Model& model, ThreadPool& pool, std::int64_t n_ctx, std::uint64_t seed)
    : model_(model), pool_(pool), session_(model, pool, n_ctx, Session::PastTrainingContext::kAllow), rng_(seed) {}

std::vector<std::int32_t> Runner::random_tokens(std::int64_t n) {
  std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(model_.config().n_vocab - 1));
  std::vector<std::int32_t> tokens(static_cast<std::size_t>(n));
  for (auto& t : tokens) t = id(rng_);
  return tokens;
}

void Runner::first_token() {
  session_.reset();
  filled_depth_ = -1;
  session_.decode(random_tokens(1)[0]);
}

void Runner::ensure_depth(std::int64_t depth) {
  if (filled_depth_ == depth) {
    session_.truncate(depth);
    return;
  }
  session_.reset();
  // In batches of 512, llama.cpp's default micro-batch: a 2048-token batch would grow the
  // scratch activations (and the peak RSS we report) four-fold for no benefit.
  constexpr std::int64_t kFillBatch = 512;
  for (std::int64_t done = 0; done < depth; done += kFillBatch) {
    session_.prefill(random_tokens(std::min(kFillBatch, depth - done)));
  }
  filled_depth_ = depth;
}

void Runner::run_once(const TestSpec& spec) {
  if (spec.n_prompt > 0) {
    session_.prefill(random_tokens(spec.n_prompt));
    return;
  }
  const std::vector<std::int32_t> tokens = random_tokens(spec.n_gen);
  for (std::int32_t t : tokens) session_.decode(t);
}

TestResult Runner::run(const TestSpec& spec, int repetitions) {
  AUTARKY_ASSERT(repetitions > 0 && (spec.n_prompt > 0) != (spec.n_gen > 0), "bad test {}", spec.name());
  if (spec.depth + spec.n_tokens() > session_.n_ctx()) {
    fail("test {} needs {} positions, the session holds {}", spec.name(), spec.depth + spec.n_tokens(), session_.n_ctx());
  }
  TestResult r;
  r.spec = spec;
  r.n_threads = pool_.size();
  ensure_depth(spec.depth);
  run_once(spec);  // warm-up
  for (int rep = 0; rep < repetitions; ++rep) {
    ensure_depth(spec.depth);
    const auto start = std::chrono::steady_clock::now();
    run_once(spec);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.seconds.push_back(s);
    r.tokens_per_second.push_back(static_cast<double>(spec.n_tokens()) / std::max(s, 1e-12));
  }
  r.ts = mean_stddev(r.tokens_per_second);
  return r;
}

std::uint64_t peak_rss_bytes() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    // x86: "model name : ...". Other architectures name it differently or not at all.
    if (line.rfind("model name", 0) == 0 || line.rfind("Model", 0) == 0) {
      const std::size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(colon + 1);
        name.erase(0, name.find_first_not_of(" \t"));
        if (!name.empty()) return name;
      }
    }
  }
  return "unknown";
}

std::uint64_t model_n_params(const Model& model) {
  std::uint64_t n = 0;
  for (const auto& t : model.file().tensors()) n += t.n_elements;
  return n;
}

std::uint64_t decode_weight_bytes(const Model& model) {
  const std::uint8_t* embedding = model.globals().matrix(TensorRole::kTokenEmbd).data;
  const bool tied = model.output().data == embedding;
  std::uint64_t n = 0;
  for (const auto& t : model.file().tensors()) {
    if (t.data.data() != embedding || tied) n += t.n_bytes;
  }
  return n;
}

namespace {

std::string file_type_name(const Model& model) {
  const std::int64_t ft = model.file().get_int_or("general.file_type", -1);
  if (ft >= 0) {
    for (std::string_view name : quant_recipe_names()) {
      const QuantRecipe* r = find_quant_recipe(name);
      if (r && r->file_type == static_cast<std::uint64_t>(ft)) return std::string(r->name);
    }
  }
  // No (known) file type: the type most 2-D weights are in, by bytes.
  std::map<std::string, std::uint64_t> bytes_by_type;
  for (const auto& t : model.file().tensors()) {
    if (t.ne.size() >= 2) bytes_by_type[std::string(dtype_name(t.type))] += t.n_bytes;
  }
  auto best = std::max_element(bytes_by_type.begin(), bytes_by_type.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  return best == bytes_by_type.end() ? "?" : best->first;
}

std::string params_label(std::uint64_t n) {
  if (n >= 1'000'000'000) return fmt::format("{:.1f}B", n / 1e9);
  if (n >= 1'000'000) return fmt::format("{:.0f}M", n / 1e6);
  return fmt::format("{:.0f}K", n / 1e3);
}

}  // namespace

std::string model_type(const Model& model) {
  return fmt::format("{} {} {}", model.config().arch_name, params_label(model_n_params(model)), file_type_name(model));
}

}  // namespace autarky::bench

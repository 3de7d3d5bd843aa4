#include "inference_flags.h"

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

namespace autarky::cli {

void add_model_flags(CLI::App& app, ModelFlags& f) {
  app.add_option("-m,--model", f.model, "GGUF model")->required();
  app.add_option("-t,--threads", f.threads, "Threads (default: physical cores)");
  app.add_option("-c,--ctx-size", f.n_ctx, "Context size in tokens (default: min(4096, model's))");
}

void add_sampling_flags(CLI::App& app, SamplingFlags& f) {
  SamplingParams& p = f.params;
  app.add_option("--temp", p.temperature, "Temperature; 0 = greedy")->capture_default_str();
  app.add_option("--top-k", p.top_k, "Top-k; 0 = off")->capture_default_str();
  app.add_option("--top-p", p.top_p, "Top-p (nucleus); 1 = off")->capture_default_str();
  app.add_option("--min-p", p.min_p, "Min-p; 0 = off")->capture_default_str();
  app.add_option("--repeat-penalty", p.repeat_penalty, "Repetition penalty; 1 = off")->capture_default_str();
  app.add_option("--repeat-last-n", p.penalty_last_n, "Tokens the penalties look back at")->capture_default_str();
  app.add_option("--presence-penalty", p.presence_penalty, "Presence penalty; 0 = off")->capture_default_str();
  app.add_option("--frequency-penalty", p.frequency_penalty, "Frequency penalty; 0 = off")->capture_default_str();
  app.add_option("--seed", f.seed, "Random seed; -1 = random")->capture_default_str();
  app.add_option("--stop", f.stop, "Stop when the generated text contains this string (repeatable)");
  app.add_flag("--ignore-eos", f.ignore_eos, "Keep generating after end-of-generation tokens");
}

std::uint64_t resolve_seed(SamplingFlags& f) {
  std::uint64_t seed = f.seed >= 0 ? static_cast<std::uint64_t>(f.seed) : std::random_device{}();
  f.params.seed = seed;
  return seed;
}

std::int64_t context_size(const ModelFlags& f, std::int64_t n_ctx_train) {
  return f.n_ctx > 0 ? f.n_ctx : std::min<std::int64_t>(4096, n_ctx_train);
}

std::uint64_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream in(line.substr(6));
      std::uint64_t kib = 0;
      in >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

}  // namespace autarky::cli

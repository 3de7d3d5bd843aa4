// The watermark on a real model, and what the processor and detector cost.
//
// Workloads:
//   watermark_quality/stories260K/200/delta_x10:<10*delta>/key:<k>/gamma_x100:<100*gamma> — 100 generations of 200 tokens from BOS (default sampler:
//     temperature 0.8, top-k 40, top-p 0.95, min-p 0.05; EOS masked so each run has 200 tokens),
//     each made twice from the same seed, with and without the watermark. Counters: detection
//     rate at z >= 4, false-positive rate on the unwatermarked runs, detection after 10% of the
//     tokens are replaced at random, detection at lengths 25..200 (prefixes), and the perplexity
//     of both sets under the unmodified model (the quality cost). z30_*/z35_* counters: the same texts
//     judged at z >= 3.0 / 3.5 instead of 4; max_z_plain: the highest z of an unwatermarked text.
//   watermark_greedy/stories260K/200/delta_x10:20/key:0 — the same with greedy decoding, each run
//     from BOS + a different first token.
//   watermark_apply/<n_vocab>, watermark_detect/200 — per-step cost of the processor and cost
//     of one detection.
// The model is $AUTARKY_BENCH_MODEL, else models/stories260K.gguf from the working directory.
// Run: build/release/bench/autarky_bench_micro --benchmark_filter=watermark --benchmark_format=json

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "compliance/watermark.h"
#include "engine/session.h"
#include "model/model.h"
#include "platform/thread_pool.h"
#include "sampling/sampler.h"

namespace autarky {
namespace {

using compliance::SecretKey;
using compliance::WatermarkProcessor;

std::optional<std::string> find_model() {
  if (const char* env = std::getenv("AUTARKY_BENCH_MODEL")) return std::string(env);
  for (const char* p : {"models/stories260K.gguf", "../models/stories260K.gguf", "../../models/stories260K.gguf"})
    if (std::filesystem::exists(p)) return std::string(p);
  return std::nullopt;
}

SecretKey bench_key(int index = 0) {
  return SecretKey::from_bytes(std::vector<std::uint8_t>(32, static_cast<std::uint8_t>(0x5a + index)));
}

struct Generation {
  std::vector<std::int32_t> tokens;  // generated only
  double nll_sum = 0;                // -log p under the unmodified model (temperature 1, no filters)
};

double log_softmax_at(std::span<const float> logits, std::int32_t token) {
  float max = logits[0];
  for (float l : logits) max = std::max(max, l);
  double sum = 0;
  for (float l : logits) sum += std::exp(double(l - max));
  return double(logits[static_cast<std::size_t>(token)] - max) - std::log(sum);
}

Generation generate(Session& session, const SamplingParams& params, const WatermarkProcessor* wm,
                    std::vector<std::int32_t> history, int n_tokens) {
  session.reset();
  Sampler sampler(params, session.n_vocab());
  const auto& cfg = session.model().config();
  for (std::int32_t t : history) sampler.accept(t);
  std::span<const float> raw = session.prefill(history);
  std::vector<float> logits;  // [n_vocab], the processed copy the sampler sees
  Generation g;
  for (int i = 0; i < n_tokens; ++i) {
    logits.assign(raw.begin(), raw.end());
    if (cfg.eos_token >= 0) logits[static_cast<std::size_t>(cfg.eos_token)] = -INFINITY;
    if (wm) wm->apply(logits, history);
    std::int32_t t = sampler.sample(logits);
    sampler.accept(t);
    g.nll_sum -= log_softmax_at(raw, t);
    g.tokens.push_back(t);
    history.push_back(t);
    if (i + 1 < n_tokens) raw = session.decode(t);
  }
  return g;
}

// state.range(0): delta * 10; state.range(1): which key (results vary from key to key, because a
// small model's texts share many token pairs whose greenness one key fixes for all of them).
void run_quality(benchmark::State& state, bool greedy) {
  auto path = find_model();
  if (!path) {
    state.SkipWithError("stories260K.gguf not found: set AUTARKY_BENCH_MODEL");
    return;
  }
  Model model = Model::load(*path);
  ThreadPool pool(1);
  Session session(model, pool, 256);
  const SecretKey key = bench_key(static_cast<int>(state.range(1)));
  compliance::WatermarkParams wm_params;
  wm_params.delta = static_cast<float>(state.range(0)) / 10.0f;
  wm_params.gamma = static_cast<double>(state.range(2)) / 100.0;
  WatermarkProcessor wm(key, wm_params);
  const auto& cfg = model.config();
  const std::int32_t bos = cfg.bos_token >= 0 ? cfg.bos_token : 1;
  constexpr int kRuns = 100, kTokens = 200;
  const std::vector<int> lengths = {25, 50, 100, 150, 200};
  for (auto _ : state) {
    int detected = 0, false_pos = 0, detected_edited = 0;
    // The same texts judged at lower z thresholds (the operating points an operator could pick).
    const std::vector<double> thresholds = {3.0, 3.5};
    std::vector<int> detected_at_t(thresholds.size(), 0), false_pos_at_t(thresholds.size(), 0),
        edited_at_t(thresholds.size(), 0);
    double max_z_plain = -1e9;
    std::vector<int> detected_at(lengths.size(), 0);
    double nll_plain = 0, nll_wm = 0, z_wm = 0, z_plain = 0;
    std::uint64_t edit_state = 12345;
    for (int run = 0; run < kRuns; ++run) {
      SamplingParams params;
      params.seed = 1000 + static_cast<std::uint64_t>(run);
      // Greedy decoding from BOS alone would give one text 100 times: greedy runs start from
      // BOS + a different (seeded) first token instead.
      std::vector<std::int32_t> prompt = {bos};
      if (greedy) {
        params.temperature = 0.0f;
        prompt.push_back(static_cast<std::int32_t>(3 + compliance::GreenList::mix64(params.seed) %
                                                           static_cast<std::uint64_t>(session.n_vocab() - 3)));
      }
      Generation marked = generate(session, params, &wm, prompt, kTokens);
      Generation plain = generate(session, params, nullptr, prompt, kTokens);
      auto rm = compliance::detect(marked.tokens, key, wm_params);
      auto rp = compliance::detect(plain.tokens, key, wm_params);
      detected += rm.watermarked;
      false_pos += rp.watermarked;
      z_wm += rm.z;
      z_plain += rp.z;
      max_z_plain = std::max(max_z_plain, rp.z);
      nll_wm += marked.nll_sum;
      nll_plain += plain.nll_sum;
      for (std::size_t k = 0; k < lengths.size(); ++k) {
        std::span<const std::int32_t> prefix(marked.tokens.data(), static_cast<std::size_t>(lengths[k]));
        detected_at[k] += compliance::detect(prefix, key, wm_params).watermarked;
      }
      std::vector<std::int32_t> edited = marked.tokens;
      for (int e = 0; e < kTokens / 10; ++e) {
        edit_state = compliance::GreenList::mix64(edit_state + 1);
        std::size_t pos = edit_state % edited.size();
        edit_state = compliance::GreenList::mix64(edit_state + 1);
        edited[pos] = static_cast<std::int32_t>(edit_state % static_cast<std::uint64_t>(session.n_vocab()));
      }
      const double z_edited = compliance::detect(edited, key, wm_params).z;
      detected_edited += z_edited >= wm_params.z_threshold;
      for (std::size_t k = 0; k < thresholds.size(); ++k) {
        detected_at_t[k] += rm.z >= thresholds[k];
        false_pos_at_t[k] += rp.z >= thresholds[k];
        edited_at_t[k] += z_edited >= thresholds[k];
      }
    }
    const double n = kRuns, tokens = double(kRuns) * kTokens;
    state.counters["detect_rate"] = detected / n;
    state.counters["false_positive_rate"] = false_pos / n;
    state.counters["detect_rate_10pct_replaced"] = detected_edited / n;
    state.counters["mean_z_watermarked"] = z_wm / n;
    state.counters["mean_z_plain"] = z_plain / n;
    state.counters["ppl_plain"] = std::exp(nll_plain / tokens);
    state.counters["ppl_watermarked"] = std::exp(nll_wm / tokens);
    for (std::size_t k = 0; k < lengths.size(); ++k)
      state.counters["detect_at_" + std::to_string(lengths[k])] = detected_at[k] / n;
    state.counters["max_z_plain"] = max_z_plain;
    for (std::size_t k = 0; k < thresholds.size(); ++k) {
      const std::string t = std::to_string(static_cast<int>(thresholds[k] * 10));
      state.counters["z" + t + "_detect_rate"] = detected_at_t[k] / n;
      state.counters["z" + t + "_false_positive_rate"] = false_pos_at_t[k] / n;
      state.counters["z" + t + "_detect_rate_10pct_replaced"] = edited_at_t[k] / n;
    }
  }
}

void BM_WatermarkQuality(benchmark::State& state) { run_quality(state, false); }
void BM_WatermarkGreedy(benchmark::State& state) { run_quality(state, true); }
BENCHMARK(BM_WatermarkQuality)
    ->Name("watermark_quality/stories260K/200")
    ->ArgNames({"delta_x10", "key", "gamma_x100"})
    // The default (delta 2, gamma 0.25) over five keys, then the study of delta and gamma.
    ->Args({20, 0, 25})->Args({20, 1, 25})->Args({20, 2, 25})->Args({20, 3, 25})->Args({20, 4, 25})
    ->Args({10, 0, 25})->Args({15, 0, 25})->Args({25, 0, 25})->Args({25, 1, 25})->Args({25, 2, 25})
    ->Args({20, 0, 15})->Args({20, 0, 50})->Args({20, 1, 50})->Args({20, 2, 50})
    ->Iterations(1)->Unit(benchmark::kSecond);
BENCHMARK(BM_WatermarkGreedy)
    ->Name("watermark_greedy/stories260K/200")
    ->ArgNames({"delta_x10", "key", "gamma_x100"})
    ->Args({20, 0, 25})
    ->Iterations(1)->Unit(benchmark::kSecond);

void BM_WatermarkApply(benchmark::State& state) {
  WatermarkProcessor wm(bench_key());
  std::vector<float> logits(static_cast<std::size_t>(state.range(0)), 0.0f);
  std::vector<std::int32_t> history = {1, 2, 3};
  std::int32_t step = 0;
  for (auto _ : state) {
    history.back() = step++;  // a new context every step, as in generation
    wm.apply(logits, history);
    benchmark::DoNotOptimize(logits.data());
  }
}
BENCHMARK(BM_WatermarkApply)->Name("watermark_apply")->Arg(512)->Arg(32000)->Arg(152064)->Unit(benchmark::kMicrosecond);

void BM_WatermarkDetect(benchmark::State& state) {
  std::vector<std::int32_t> tokens(static_cast<std::size_t>(state.range(0)));
  for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<std::int32_t>(compliance::GreenList::mix64(i) % 32000);
  SecretKey key = bench_key();
  for (auto _ : state) benchmark::DoNotOptimize(compliance::detect(tokens, key));
}
BENCHMARK(BM_WatermarkDetect)->Name("watermark_detect")->Arg(200)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace autarky

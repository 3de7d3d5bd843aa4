#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <utility>

#include "base/error.h"

namespace autarky {
namespace {

// Softmax over the candidates' logits (already sorted or not), written into p.
void normalise(std::vector<TokenProb>& c) {
  if (c.empty()) return;
  float max_logit = c[0].logit;
  for (const auto& t : c) max_logit = std::max(max_logit, t.logit);
  double sum = 0.0;
  for (auto& t : c) {
    t.p = std::exp(t.logit - max_logit);
    sum += t.p;
  }
  for (auto& t : c) t.p = static_cast<float>(t.p / sum);
}

void sort_by_logit(std::vector<TokenProb>& c) {
  // Ties broken by id so the order (and thus the draw) never depends on the sort algorithm.
  std::sort(c.begin(), c.end(), [](const TokenProb& a, const TokenProb& b) {
    return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
  });
}

void keep_top_k(std::vector<TokenProb>& c, std::int32_t k) {
  if (k <= 0 || static_cast<std::size_t>(k) >= c.size()) return;
  c.resize(static_cast<std::size_t>(k));
}

// Smallest prefix (by probability) whose mass reaches p; at least one token.
void keep_top_p(std::vector<TokenProb>& c, float p) {
  if (p >= 1.0f || c.empty()) return;
  normalise(c);
  double cum = 0.0;
  std::size_t keep = c.size();
  for (std::size_t i = 0; i < c.size(); ++i) {
    cum += c[i].p;
    if (cum >= p) {
      keep = i + 1;
      break;
    }
  }
  c.resize(keep);
}

// Tokens at least min_p times as likely as the most likely one.
void keep_min_p(std::vector<TokenProb>& c, float min_p) {
  if (min_p <= 0.0f || c.empty()) return;
  normalise(c);
  const float threshold = c[0].p * min_p;  // c is sorted: c[0] is the most likely
  std::size_t keep = 1;
  while (keep < c.size() && c[keep].p >= threshold) ++keep;
  c.resize(keep);
}

}  // namespace

Sampler::Sampler(const SamplingParams& params, std::int64_t n_vocab) : params_(params), n_vocab_(n_vocab), rng_(params.seed) {
  if (!(params.top_p > 0.0f)) fail("--top-p {} must be in (0, 1]", params.top_p);
  if (params.min_p < 0.0f || params.min_p > 1.0f) fail("--min-p {} must be in [0, 1]", params.min_p);
  if (!(params.repeat_penalty > 0.0f)) fail("--repeat-penalty {} must be positive", params.repeat_penalty);
  if (params.penalty_last_n < 0) fail("--repeat-last-n {} must not be negative", params.penalty_last_n);
  if (!std::isfinite(params.temperature)) fail("--temp {} must be a finite number", params.temperature);
}

void Sampler::add_processor(std::shared_ptr<const LogitProcessor> processor) {
  AUTARKY_ASSERT(processor != nullptr, "null logit processor");
  processors_.push_back(std::move(processor));
}

void Sampler::accept(std::int32_t token) {
  context_.push_back(token);
  if (params_.penalty_last_n == 0) return;
  recent_.push_back(token);
  while (recent_.size() > static_cast<std::size_t>(params_.penalty_last_n)) recent_.pop_front();
}

std::vector<TokenProb> Sampler::candidates(std::span<const float> logits) const {
  AUTARKY_ASSERT(static_cast<std::int64_t>(logits.size()) == n_vocab_, "{} logits for a vocabulary of {}", logits.size(),
                 n_vocab_);
  std::vector<TokenProb> c(logits.size());
  if (processors_.empty()) {
    for (std::size_t i = 0; i < logits.size(); ++i) c[i] = {static_cast<std::int32_t>(i), logits[i], 0.0f};
  } else {
    std::vector<float> processed(logits.begin(), logits.end());  // [n_vocab]
    for (const auto& p : processors_) p->apply(processed, context_);
    for (std::size_t i = 0; i < processed.size(); ++i) c[i] = {static_cast<std::int32_t>(i), processed[i], 0.0f};
  }

  const bool penalise = params_.repeat_penalty != 1.0f || params_.presence_penalty != 0.0f ||
                        params_.frequency_penalty != 0.0f;
  if (penalise && !recent_.empty()) {
    std::unordered_map<std::int32_t, int> counts;
    for (std::int32_t t : recent_) ++counts[t];
    for (const auto& [id, count] : counts) {
      if (id < 0 || id >= n_vocab_) continue;
      float& l = c[static_cast<std::size_t>(id)].logit;
      // Dividing a positive logit and multiplying a negative one both make the token less likely.
      l = l > 0.0f ? l / params_.repeat_penalty : l * params_.repeat_penalty;
      l -= static_cast<float>(count) * params_.frequency_penalty + params_.presence_penalty;
    }
  }
  sort_by_logit(c);
  if (params_.greedy()) {
    c.resize(1);
    c[0].p = 1.0f;
    return c;
  }
  keep_top_k(c, params_.top_k);
  keep_top_p(c, params_.top_p);
  keep_min_p(c, params_.min_p);
  for (auto& t : c) t.logit /= params_.temperature;
  normalise(c);
  return c;
}

std::vector<TokenProb> Sampler::distribution(std::span<const float> logits) const { return candidates(logits); }

std::int32_t Sampler::sample(std::span<const float> logits) {
  std::vector<TokenProb> c = candidates(logits);
  if (c.size() == 1) return c[0].id;
  // Our own inverse-CDF draw (not std::discrete_distribution, whose algorithm differs between
  // standard libraries) keeps seeded runs reproducible everywhere.
  const double u = static_cast<double>(rng_() >> 11) * 0x1p-53;  // uniform in [0, 1)
  double cum = 0.0;
  for (const auto& t : c) {
    cum += t.p;
    if (u < cum) return t.id;
  }
  return c.back().id;
}

}  // namespace autarky

#include "engine/batch_step.h"

namespace autarky {

BatchStepper::BatchStepper(const Model& model, ThreadPool& pool) : model_(model), pool_(pool) {}

StepSummary BatchStepper::step(std::span<ActiveRequest* const> running, std::int64_t prefill_chunk) {
  struct Work {
    ActiveRequest* request;
    std::span<const std::int32_t> tokens;
    bool wants_logits;
  };
  std::vector<Work> work;
  StepSummary summary;
  for (ActiveRequest* r : running) {
    if (!r->prefilling()) work.push_back({r, r->next_tokens(0), true});
  }
  std::int64_t budget = prefill_chunk;
  for (ActiveRequest* r : running) {
    if (!r->prefilling() || budget <= 0) continue;
    auto tokens = r->next_tokens(budget);
    const auto n = static_cast<std::int64_t>(tokens.size());
    budget -= n;
    summary.prompt_tokens += n;
    work.push_back({r, tokens, n == r->prompt_left()});
  }

  std::int64_t generated_before = 0;
  for (const Work& w : work) generated_before += w.request->n_generated();
  const std::int64_t n_vocab = model_.config().n_vocab;
  logits_.resize(static_cast<std::size_t>(n_vocab));
  ForwardContext ctx{pool_, scratch_};
  for (const Work& w : work) {
    forward(model_, ctx, w.request->cache(), w.tokens, w.request->n_past(), LogitsFor::kLastToken, logits_.data());
    const auto n = static_cast<std::int64_t>(w.tokens.size());
    summary.tokens += n;
    ++summary.sequences;
    w.request->evaluated(n, w.wants_logits ? std::span<const float>(logits_) : std::span<const float>());
  }
  for (const Work& w : work) summary.sampled_tokens += w.request->n_generated();
  summary.sampled_tokens -= generated_before;
  return summary;
}

}  // namespace autarky

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
  std::vector<SequenceChunk> chunks;
  chunks.reserve(work.size());
  std::int64_t logit_rows = 0;
  for (const Work& w : work) {
    generated_before += w.request->n_generated();
    chunks.push_back({&w.request->cache(), w.tokens, w.request->n_past(),
                      w.wants_logits ? LogitsFor::kLastToken : LogitsFor::kNone});
    logit_rows += w.wants_logits ? 1 : 0;
    summary.tokens += static_cast<std::int64_t>(w.tokens.size());
  }
  summary.sequences = static_cast<std::int64_t>(work.size());
  if (work.empty()) return summary;

  const std::int64_t n_vocab = model_.config().n_vocab;
  logits_.resize(static_cast<std::size_t>(logit_rows * n_vocab));
  ForwardContext ctx{pool_, scratch_};
  forward_batch(model_, ctx, chunks, logits_.data());

  std::int64_t row = 0;
  for (const Work& w : work) {
    std::span<const float> logits;
    if (w.wants_logits) logits = std::span<const float>(logits_).subspan(static_cast<std::size_t>(row++ * n_vocab),
                                                                          static_cast<std::size_t>(n_vocab));
    // Sampling and the callbacks may cancel a request or fail it; the next one still gets its logits.
    w.request->evaluated(static_cast<std::int64_t>(w.tokens.size()), logits);
  }
  for (const Work& w : work) summary.sampled_tokens += w.request->n_generated();
  summary.sampled_tokens -= generated_before;
  return summary;
}

}  // namespace autarky

#include "engine/session.h"

#include "base/error.h"

namespace autarky {
namespace {

KvCacheShape cache_shape(const ModelConfig& c, std::int64_t n_ctx, bool allow_past_training) {
  if (n_ctx < 0) fail("context size {} must not be negative", n_ctx);
  if (n_ctx == 0) n_ctx = c.n_ctx_train;
  if (n_ctx > c.n_ctx_train && !allow_past_training) {
    fail("context size {} exceeds the model's training context {} ({}.context_length)", n_ctx, c.n_ctx_train, c.arch_name);
  }
  return {c.n_layer, n_ctx, c.n_head_kv * c.head_dim_k, c.n_head_kv * c.head_dim_v, c.n_head_kv};
}

}  // namespace

Session::Session(const Model& model, ThreadPool& pool, std::int64_t n_ctx, PastTrainingContext past)
    : model_(model), pool_(pool), cache_(cache_shape(model.config(), n_ctx, past == PastTrainingContext::kAllow)) {}

std::span<const float> Session::prefill(std::span<const std::int32_t> tokens) {
  return evaluate(tokens, LogitsFor::kLastToken);
}

std::span<const float> Session::prefill_all(std::span<const std::int32_t> tokens) {
  return evaluate(tokens, LogitsFor::kAllTokens);
}

std::span<const float> Session::decode(std::int32_t token) { return evaluate({&token, 1}, LogitsFor::kLastToken); }

void Session::truncate(std::int64_t n_keep) {
  AUTARKY_ASSERT(n_keep >= 0 && n_keep <= n_past(), "truncate to {} of {}", n_keep, n_past());
  history_.resize(static_cast<std::size_t>(n_keep));
}

std::span<const float> Session::evaluate(std::span<const std::int32_t> tokens, LogitsFor which) {
  if (tokens.empty()) fail("cannot evaluate an empty batch of tokens");
  const std::int64_t n_vocab = model_.config().n_vocab;
  for (std::int32_t t : tokens) {
    if (t < 0 || t >= n_vocab) fail("token id {} is out of range (vocabulary of {})", t, n_vocab);
  }
  const auto n = static_cast<std::int64_t>(tokens.size());
  if (n_past() + n > n_ctx()) {
    fail("context overflow: {} tokens in the context + {} new exceed the context size {}", n_past(), n, n_ctx());
  }
  const std::int64_t rows = which == LogitsFor::kAllTokens ? n : 1;
  logits_.resize(static_cast<std::size_t>(rows * n_vocab));
  ForwardContext ctx{pool_, scratch_};
  forward(model_, ctx, cache_, tokens, n_past(), which, logits_.data());
  history_.insert(history_.end(), tokens.begin(), tokens.end());
  return logits_;
}

}  // namespace autarky

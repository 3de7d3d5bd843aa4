#pragma once
// A conversation with a model: the token history, its KV cache, and the scratch activations.
// Prompts are evaluated as one batch (prefill); generated tokens one at a time (decode).

#include <cstdint>
#include <span>
#include <vector>

#include "kv/kv_cache.h"
#include "model/forward.h"
#include "model/model.h"
#include "platform/thread_pool.h"

namespace autarky {

class Session {
 public:
  // n_ctx: positions the KV cache holds; 0 means the model's training context. Larger than the
  // training context is an Error unless allowed (benchmarks measure speed there, as llama-bench
  // does; the arithmetic is the same, only the model's quality is unknown).
  enum class PastTrainingContext { kError, kAllow };
  Session(const Model& model, ThreadPool& pool, std::int64_t n_ctx = 0,
          PastTrainingContext past = PastTrainingContext::kError);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Appends `tokens` to the history in one forward pass; returns the next-token logits after
  // the last one: [n_vocab]. Throws Error for an invalid token id or when the context is full.
  std::span<const float> prefill(std::span<const std::int32_t> tokens);
  // Same, but returns the logits after every token: [tokens.size()][n_vocab].
  std::span<const float> prefill_all(std::span<const std::int32_t> tokens);
  // Appends one token: [n_vocab].
  std::span<const float> decode(std::int32_t token);

  // Forgets everything from position n_keep on (the cache rows past it are simply overwritten).
  void truncate(std::int64_t n_keep);
  void reset() { truncate(0); }

  std::int64_t n_past() const { return static_cast<std::int64_t>(history_.size()); }
  std::int64_t n_ctx() const { return cache_.n_ctx(); }
  std::int64_t n_vocab() const { return model_.config().n_vocab; }
  const std::vector<std::int32_t>& history() const { return history_; }
  const Model& model() const { return model_; }
  std::uint64_t kv_cache_bytes() const { return cache_.bytes(); }

 private:
  std::span<const float> evaluate(std::span<const std::int32_t> tokens, LogitsFor which);

  const Model& model_;
  ThreadPool& pool_;
  KvCache cache_;
  ForwardScratch scratch_;
  std::vector<std::int32_t> history_;  // tokens whose keys/values are in the cache, by position
  std::vector<float> logits_;          // [1 or n_tokens][n_vocab] of the last call
};

}  // namespace autarky

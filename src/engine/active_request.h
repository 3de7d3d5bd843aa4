#pragma once
// One request while it holds a scheduler slot: where its prompt is, the token waiting to be
// evaluated, and the generate loop's per-token logic (sample, end tokens, stop strings, limits,
// streamed text) cut into steps so that the scheduler can interleave many requests. The rules
// are those of generate() in generate.h, so a request run here yields the same tokens as
// generate() on a Session.

#include <chrono>
#include <cstdint>
#include <span>

#include "engine/scheduler.h"
#include "engine/stop_strings.h"
#include "kv/kv_cache.h"
#include "text/streaming_decoder.h"

namespace autarky {

class ActiveRequest {
 public:
  using Clock = std::chrono::steady_clock;

  ActiveRequest(RequestId id, CompletionRequest request, CompletionCallbacks callbacks, Sampler sampler,
                const text::Tokenizer& tokenizer, KvCache& cache, Clock::time_point submitted);
  ActiveRequest(const ActiveRequest&) = delete;
  ActiveRequest& operator=(const ActiveRequest&) = delete;

  RequestId id() const { return id_; }
  KvCache& cache() { return cache_; }
  std::int64_t n_past() const { return n_past_; }  // positions filled in the cache
  bool done() const { return done_; }
  CompletionStatus status() const { return result_.status; }
  std::int64_t n_generated() const { return static_cast<std::int64_t>(result_.tokens.size()); }
  bool prefilling() const { return n_prompt_done_ < static_cast<std::int64_t>(request_.prompt.size()); }
  std::int64_t prompt_left() const { return static_cast<std::int64_t>(request_.prompt.size()) - n_prompt_done_; }

  // The tokens to evaluate next: up to max_prompt prompt tokens while prefilling (at least 1),
  // else the one sampled token not yet in the cache.
  std::span<const std::int32_t> next_tokens(std::int64_t max_prompt) const;
  // After the forward pass evaluated next_tokens(max_prompt) of size n. logits: [n_vocab] after
  // the last of them, or empty for a prompt chunk that is not the prompt's end (nothing to sample).
  void evaluated(std::int64_t n, std::span<const float> logits);

  // Ends the request without sampling more (cancel(), shutdown, error).
  void stop(CompletionStatus status, std::string error = {});
  // Calls on_finish once (after done()); never throws.
  void report();

 private:
  void sample_next(std::span<const float> logits);
  void finish(StopReason reason);
  void emit(std::string_view text);
  template <typename Fn>
  void guarded(Fn&& fn);

  RequestId id_;
  CompletionRequest request_;
  CompletionCallbacks callbacks_;
  Sampler sampler_;
  text::StreamingDecoder decoder_;
  StopStringMatcher matcher_;
  KvCache& cache_;
  Clock::time_point submitted_, admitted_, first_token_;
  std::int64_t n_past_ = 0;
  std::int64_t n_prompt_done_ = 0;
  std::int32_t pending_ = -1;  // sampled and emitted, not yet evaluated
  bool done_ = false;
  bool reported_ = false;
  CompletionResult result_;
};

}  // namespace autarky

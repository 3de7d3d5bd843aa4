#pragma once
// Continuous batching: many completion requests share one model. Each admitted request gets a
// slot (its own KV cache); one loop thread runs a forward pass per step over every active slot
// together (a decode token for each generating request, plus a bounded chunk of prompt tokens for
// requests still in prefill), so requests join and leave the batch at any step and a long prompt
// does not stall the others.
//
//   Scheduler sched(model, tokenizer, pool, {.n_slots = 8});
//   RequestId id = sched.submit(std::move(request), {.on_text = ..., .on_finish = ...});
//   sched.cancel(id);  // e.g. the HTTP client went away; the slot is freed at the next step
//
// Callbacks run on the scheduler's thread, one request at a time, without any lock held: they
// may call submit() / cancel() / stats(), but must not block for long (every request waits).
// The ThreadPool belongs to the scheduler while it lives: nobody else may run work on it.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "engine/generate.h"
#include "model/model.h"
#include "platform/thread_pool.h"
#include "sampling/sampler.h"
#include "text/tokenizer.h"

namespace autarky {

using RequestId = std::uint64_t;

// submit() when all slots are busy and the wait queue is full (an HTTP server answers 503).
class QueueFull : public Error {
 public:
  using Error::Error;
};

struct CompletionRequest {
  std::vector<std::int32_t> prompt;  // token ids, BOS included if wanted; not empty
  SamplingParams sampling;
  GenerateOptions options;  // max_tokens (< 0: until the slot's context is full), end_tokens, stop_strings
  // Run on the logits before sampling, in order (e.g. the compliance watermark); shared, stateless.
  std::vector<std::shared_ptr<const LogitProcessor>> logit_processors;
  // Drop the SentencePiece space before the first generated word (a chat answer starts a new
  // text); false for a plain completion that continues the prompt's text.
  bool strip_leading_space = false;
};

enum class CompletionStatus {
  kFinished,   // stopped normally: see CompletionResult::reason
  kCancelled,  // cancel() was called
  kFailed,     // error holds why (e.g. the scheduler was destroyed with the request pending)
};

struct CompletionResult {
  CompletionStatus status = CompletionStatus::kFinished;
  StopReason reason = StopReason::kMaxTokens;  // meaningful when status == kFinished
  std::string error;                           // set when status == kFailed
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;          // generated tokens, an end token not included
  std::vector<std::int32_t> tokens;            // the generated ids
  double queue_seconds = 0.0;     // submit() until the request got a slot
  double prompt_seconds = 0.0;    // slot until the first token was sampled (prefill)
  double generate_seconds = 0.0;  // first token sampled until finish
};

struct CompletionCallbacks {
  // Text that is complete UTF-8 and known not to be part of a stop string. May be null.
  std::function<void(std::string_view text)> on_text;
  // Every generated token (not an end token) with the model's logits for it, [n_vocab] (before
  // any logit processor), valid only during the call (for logprobs). Called before the on_text of that token. May be null.
  std::function<void(std::int32_t token, std::span<const float> logits)> on_token;
  // Exactly once per accepted request, last of its callbacks.
  std::function<void(const CompletionResult& result)> on_finish;
};

struct SchedulerOptions {
  int n_slots = 4;                 // requests decoded together at most
  std::int64_t n_ctx_per_slot = 0; // context of each slot's KV cache; 0: the model's training context
  int max_queued = 64;             // requests waiting for a slot before submit() throws QueueFull
  std::int64_t prefill_chunk = 64; // prompt tokens evaluated per step (over all prefilling requests)
};

struct SchedulerStats {
  std::int64_t queued = 0;  // waiting for a slot
  std::int64_t active = 0;  // in a slot (prefilling or generating)
  std::int64_t last_batch_sequences = 0;  // sequences in the last forward pass
  std::int64_t last_batch_tokens = 0;     // tokens in the last forward pass
  std::uint64_t steps = 0;                // forward passes run
  std::uint64_t submitted = 0;
  std::uint64_t finished = 0;   // status kFinished
  std::uint64_t cancelled = 0;
  std::uint64_t failed = 0;
  std::uint64_t prompt_tokens = 0;      // evaluated prompt tokens, all requests
  std::uint64_t completion_tokens = 0;  // generated tokens, all requests
};

class Scheduler {
 public:
  // Validates the options (Error naming the bad one) and starts the loop thread. The model,
  // tokenizer and pool must outlive the scheduler.
  Scheduler(const Model& model, const text::Tokenizer& tokenizer, ThreadPool& pool, const SchedulerOptions& options);
  // Stops the loop; requests still queued or running finish with status kFailed.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a request. Throws Error for a request that can never run (empty prompt, token id out
  // of the vocabulary, prompt that does not leave room for one generated token in a slot's
  // context, bad sampling values) and QueueFull when no slot and no queue place is free. When it
  // returns, on_finish will be called exactly once.
  RequestId submit(CompletionRequest request, CompletionCallbacks callbacks);
  // Stops a queued or running request at the next step (its on_finish reports kCancelled).
  // Unknown or already finished ids are ignored.
  void cancel(RequestId id);

  SchedulerStats stats() const;
  std::int64_t n_ctx_per_slot() const;
  const SchedulerOptions& options() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace autarky

#pragma once
// The sampler chain, with llama.cpp's semantics and default order so that the same flags mean
// the same thing: penalties -> top-k -> top-p -> min-p -> temperature -> draw.
// A temperature <= 0 means greedy (argmax after penalties). Same seed + same logits + same
// history = same token, on every run and every thread count.

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <span>
#include <vector>

namespace autarky {

struct SamplingParams {
  float temperature = 0.8f;
  std::int32_t top_k = 40;        // <= 0: disabled
  float top_p = 0.95f;            // >= 1: disabled
  float min_p = 0.05f;            // <= 0: disabled
  float repeat_penalty = 1.0f;    // 1: disabled
  float presence_penalty = 0.0f;  // 0: disabled
  float frequency_penalty = 0.0f; // 0: disabled
  std::int32_t penalty_last_n = 64;  // how many recent tokens the penalties look at
  std::uint64_t seed = 0;

  bool greedy() const { return temperature <= 0.0f; }
};

struct TokenProb {
  std::int32_t id;
  float logit;
  float p;  // filled by the chain's final softmax
};

// Rewrites next-token logits [n_vocab] in place before the chain runs (e.g. the compliance
// watermark's green-list bias). `context`: every token accepted so far (prompt included), oldest
// first. apply() is const so that one processor (and its key) can be shared by many Samplers,
// e.g. one per request of a batch; a processor must not keep per-request state.
class LogitProcessor {
 public:
  virtual ~LogitProcessor() = default;
  virtual void apply(std::span<float> logits, std::span<const std::int32_t> context) const = 0;
};

class Sampler {
 public:
  // Validates parameters (Error naming the flag value when out of range).
  Sampler(const SamplingParams& params, std::int64_t n_vocab);

  // Picks the next token from next-token logits [n_vocab]. Does not record it: call accept().
  std::int32_t sample(std::span<const float> logits);
  // The candidates that survive the chain, with their final probabilities (sum 1), most likely
  // first. For greedy sampling this is the single argmax token.
  std::vector<TokenProb> distribution(std::span<const float> logits) const;

  // Processors run in the order added, on a copy of the logits, before penalties and
  // truncation, in sample() and distribution() alike (so greedy decoding sees them too).
  void add_processor(std::shared_ptr<const LogitProcessor> processor);

  // Records a token of the context (prompt or generated) for the penalties and the processors.
  void accept(std::int32_t token);
  void reset_history() {
    recent_.clear();
    context_.clear();
  }
  const SamplingParams& params() const { return params_; }

 private:
  std::vector<TokenProb> candidates(std::span<const float> logits) const;

  SamplingParams params_;
  std::int64_t n_vocab_;
  std::deque<std::int32_t> recent_;  // last penalty_last_n accepted tokens
  std::vector<std::shared_ptr<const LogitProcessor>> processors_;
  std::vector<std::int32_t> context_;  // all accepted tokens, for the processors
  std::mt19937_64 rng_;
};

}  // namespace autarky

#pragma once
// Log-probabilities of the model's next-token distribution (softmax of the raw logits, before
// any sampling transform), for the API's `logprobs`: the chosen token's and the most likely ones.

#include <cstdint>
#include <span>
#include <vector>

namespace autarky {

struct TokenLogprob {
  std::int32_t id = 0;
  float logprob = 0.0f;
};

struct PositionLogprobs {
  TokenLogprob chosen;
  std::vector<TokenLogprob> top;  // the top_n most likely tokens, most likely first (ties: lower id)
};

// logits: [n_vocab]; chosen must be a valid index.
PositionLogprobs position_logprobs(std::span<const float> logits, std::int32_t chosen, std::int32_t top_n);

}  // namespace autarky

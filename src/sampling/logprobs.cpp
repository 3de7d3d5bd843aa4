#include "sampling/logprobs.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/error.h"

namespace autarky {

PositionLogprobs position_logprobs(std::span<const float> logits, std::int32_t chosen, std::int32_t top_n) {
  AUTARKY_ASSERT(chosen >= 0 && static_cast<std::size_t>(chosen) < logits.size(), "token {} of {} logits", chosen,
                 logits.size());
  // log softmax = logit - (max + log sum exp(logit - max)), in double for a vocabulary of 10^5.
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) - max_logit);
  const double log_norm = max_logit + std::log(sum);
  auto logprob = [&](std::int32_t id) {
    return static_cast<float>(static_cast<double>(logits[static_cast<std::size_t>(id)]) - log_norm);
  };

  PositionLogprobs out;
  out.chosen = {chosen, logprob(chosen)};
  const auto n = static_cast<std::size_t>(std::clamp<std::int64_t>(top_n, 0, static_cast<std::int64_t>(logits.size())));
  if (n == 0) return out;
  std::vector<std::int32_t> ids(logits.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n), ids.end(),
                    [&](std::int32_t a, std::int32_t b) {
                      const float la = logits[static_cast<std::size_t>(a)];
                      const float lb = logits[static_cast<std::size_t>(b)];
                      return la != lb ? la > lb : a < b;
                    });
  out.top.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.top.push_back({ids[i], logprob(ids[i])});
  return out;
}

}  // namespace autarky

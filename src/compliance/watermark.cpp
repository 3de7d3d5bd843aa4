#include "compliance/watermark.h"

#include <cmath>
#include <unordered_set>

#include "base/error.h"
#include "compliance/crypto.h"

namespace autarky::compliance {

GreenList::GreenList(const SecretKey& provider_key, double gamma)
    : key_(provider_key.derive("watermark")), gamma_(gamma) {
  if (!(gamma > 0.0 && gamma < 1.0)) fail("watermark gamma {} must be in (0, 1)", gamma);
  // 2^64 * gamma, computed in long double so that gamma = 0.25 gives exactly 2^62.
  threshold_ = static_cast<std::uint64_t>(std::ldexp(static_cast<long double>(gamma), 64));
}

std::uint64_t GreenList::context_seed(std::int32_t previous) const {
  std::uint8_t msg[7] = {'c', 't', 'x'};
  auto u = static_cast<std::uint32_t>(previous);
  for (int i = 0; i < 4; ++i) msg[3 + i] = static_cast<std::uint8_t>(u >> (8 * i));
  Digest256 mac = hmac_sha256(key_.bytes(), std::span<const std::uint8_t>(msg, sizeof msg));
  std::uint64_t seed = 0;
  for (int i = 0; i < 8; ++i) seed |= std::uint64_t(mac[static_cast<std::size_t>(i)]) << (8 * i);
  return seed;
}

WatermarkProcessor::WatermarkProcessor(const SecretKey& provider_key, WatermarkParams params)
    : params_(params), green_(provider_key, params.gamma) {
  if (!(params.delta >= 0.0f)) fail("watermark delta {} must be >= 0", params.delta);
}

void WatermarkProcessor::apply(std::span<float> logits, std::span<const std::int32_t> previous_tokens) const {
  std::int32_t previous = previous_tokens.empty() ? -1 : previous_tokens.back();
  std::uint64_t seed = green_.context_seed(previous);
  for (std::size_t t = 0; t < logits.size(); ++t) {
    if (green_.is_green(seed, static_cast<std::int32_t>(t))) logits[t] += params_.delta;
  }
}

DetectionResult detect(std::span<const std::int32_t> tokens, const SecretKey& provider_key,
                       const WatermarkParams& params) {
  GreenList green(provider_key, params.gamma);
  std::unordered_set<std::uint64_t> seen;
  DetectionResult r;
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    std::uint64_t pair = std::uint64_t(static_cast<std::uint32_t>(tokens[i - 1])) << 32 |
                         static_cast<std::uint32_t>(tokens[i]);
    if (!seen.insert(pair).second) continue;
    ++r.n_scored;
    if (green.is_green(green.context_seed(tokens[i - 1]), tokens[i])) ++r.n_green;
  }
  if (r.n_scored == 0) return r;
  const double n = static_cast<double>(r.n_scored);
  const double g = params.gamma;
  r.z = (static_cast<double>(r.n_green) - g * n) / std::sqrt(n * g * (1.0 - g));
  r.p_value = 0.5 * std::erfc(r.z / std::sqrt(2.0));
  r.watermarked = r.z >= params.z_threshold;
  return r;
}

}  // namespace autarky::compliance

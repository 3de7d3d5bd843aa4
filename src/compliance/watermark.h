#pragma once
// A keyed statistical watermark for generated tokens: the "soft red list" scheme of Kirchenbauer
// et al., "A Watermark for Large Language Models" (ICML 2023), with a context of one previous
// token. docs/COMPLIANCE.md says why this scheme and not SynthID-Text or Gumbel sampling.
//
// At every step a secret pseudo-random function of (key, previous token, candidate token)
// puts each candidate in the green list with probability gamma; the processor adds delta to the
// green logits before sampling. Text made this way holds more green tokens than the gamma share
// that text made without the key holds; the detector counts them and reports a one-sided z-test.
//
// The PRF: seed = first 8 bytes of HMAC-SHA256(k_wm, "ctx" || previous token as int32 LE), then
// green(token) = mix64(seed + token * 0x9E3779B97F4A7C15) < gamma * 2^64, with mix64 the
// SplitMix64 finaliser. One HMAC per step, one multiply-xorshift per candidate. k_wm is derived
// from the provider key (SecretKey::derive("watermark")), so the key file can be shared with the
// other compliance functions without the watermark leaking anything about them.

#include <cstdint>
#include <span>

#include "compliance/secret_key.h"
#include "sampling/sampler.h"

namespace autarky::compliance {

struct WatermarkParams {
  double gamma = 0.25;      // share of the vocabulary that is green at each step
  float delta = 2.0f;       // logit bias added to green tokens
  // One-sided; p ~ 2.3e-4 for independent tokens. docs/COMPLIANCE.md has the measured false
  // positives on real text (0 / 500 on stories260K) and why 3.5 rather than 4.
  double z_threshold = 3.5;
};

// The green-list membership test shared by the processor and the detector.
class GreenList {
 public:
  GreenList(const SecretKey& provider_key, double gamma);
  // Context for the token that follows `previous` (-1: no previous token, i.e. start of text).
  std::uint64_t context_seed(std::int32_t previous) const;
  bool is_green(std::uint64_t seed, std::int32_t token) const {
    return mix64(seed + static_cast<std::uint64_t>(static_cast<std::uint32_t>(token)) * 0x9E3779B97F4A7C15ull) <
           threshold_;
  }
  double gamma() const { return gamma_; }

  static std::uint64_t mix64(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
  }

 private:
  SecretKey key_;  // already derived for the watermark
  double gamma_;
  std::uint64_t threshold_;
};

// A logit processor for the sampler chain (Sampler::add_processor). Stateless across calls; safe
// to share between sessions that use the same key (apply() is const).
class WatermarkProcessor final : public LogitProcessor {
 public:
  WatermarkProcessor(const SecretKey& provider_key, WatermarkParams params = {});
  // logits: [n_vocab], modified in place; previous_tokens: everything before the position being
  // sampled (prompt included); only the last one is used.
  void apply(std::span<float> logits, std::span<const std::int32_t> previous_tokens) const override;
  const WatermarkParams& params() const { return params_; }

 private:
  WatermarkParams params_;
  GreenList green_;
};

struct DetectionResult {
  double z = 0.0;
  double p_value = 1.0;
  std::size_t n_scored = 0;  // distinct (previous, token) pairs tested
  std::size_t n_green = 0;
  bool watermarked = false;
};

// Needs only the key and token ids. Token i (i >= 1) is scored with tokens[i-1] as its context;
// the first token has no visible context and is skipped. A (previous, token) pair that occurs
// again is scored once, as the papers recommend: repeated n-grams are not independent draws and
// would otherwise inflate z for repetitive human text.
DetectionResult detect(std::span<const std::int32_t> tokens, const SecretKey& provider_key,
                       const WatermarkParams& params = {});

}  // namespace autarky::compliance

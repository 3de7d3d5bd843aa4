// Watermark processor + detector on a synthetic "model": random logit vectors over a 512-token
// vocabulary with per-step temperatures chosen to give LLM-like entropies, sampled with and
// without the processor. Every random stream has a fixed seed, so results are deterministic;
// thresholds are statistical (a wrong implementation misses them by far, not by a little).

#include <cmath>
#include <numeric>

#include "base/error.h"
#include "compliance/watermark.h"
#include "test_support.h"

namespace autarky::compliance {
namespace {

constexpr int kVocab = 512;

// SplitMix64: a tiny PRNG with a fixed, platform-independent sequence.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() { return GreenList::mix64(s_ += 0x9E3779B97F4A7C15ull); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double normal() {
    double u1 = std::max(uniform(), 1e-300), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }

 private:
  std::uint64_t s_;
};

SecretKey key_from(std::uint8_t fill) { return SecretKey::from_bytes(std::vector<std::uint8_t>(32, fill)); }

// logits: [kVocab]; Gaussian with a per-step scale, so some steps are near-deterministic and
// others spread over many tokens.
void synthetic_logits(Rng& rng, std::vector<float>& logits) {
  double scale = 1.0 + 3.5 * rng.uniform();
  for (auto& l : logits) l = static_cast<float>(scale * rng.normal());
}

int sample(Rng& rng, const std::vector<float>& logits, double* entropy) {
  float max = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double sum = 0;
  for (std::size_t i = 0; i < p.size(); ++i) sum += p[i] = std::exp(double(logits[i] - max));
  double h = 0, u = rng.uniform() * sum, acc = 0;
  int chosen = -1;
  for (std::size_t i = 0; i < p.size(); ++i) {
    double q = p[i] / sum;
    if (q > 0) h -= q * std::log(q);
    acc += p[i];
    if (chosen < 0 && u < acc) chosen = static_cast<int>(i);
  }
  if (entropy) *entropy += h;
  return chosen < 0 ? kVocab - 1 : chosen;
}

// A prompt token then `n` generated tokens; only the generated ones are returned (as the
// detector sees text without its prompt).
std::vector<std::int32_t> generate(std::uint64_t seed, int n, const WatermarkProcessor* wm, double* mean_entropy) {
  Rng rng(seed);
  std::vector<std::int32_t> context = {static_cast<std::int32_t>(rng.below(kVocab))};
  std::vector<float> logits(kVocab);
  double entropy = 0;
  for (int i = 0; i < n; ++i) {
    synthetic_logits(rng, logits);
    double h = 0;
    if (wm) wm->apply(logits, context);
    int t = sample(rng, logits, &h);
    entropy += h;
    context.push_back(t);
  }
  if (mean_entropy) *mean_entropy = entropy / n;
  return {context.begin() + 1, context.end()};
}

TEST(Watermark, ProcessorBiasesExactlyTheGreenList) {
  auto key = key_from(1);
  WatermarkParams params;
  WatermarkProcessor wm(key, params);
  GreenList green(key, params.gamma);
  std::vector<float> logits(kVocab, 0.0f);
  std::vector<std::int32_t> prev = {17};
  wm.apply(logits, prev);
  int n_green = 0;
  std::uint64_t seed = green.context_seed(17);
  for (int t = 0; t < kVocab; ++t) {
    bool g = green.is_green(seed, t);
    EXPECT_EQ(logits[static_cast<std::size_t>(t)], g ? params.delta : 0.0f) << t;
    n_green += g;
  }
  // Binomial(512, 0.25): mean 128, sd 9.8.
  EXPECT_GT(n_green, 128 - 40);
  EXPECT_LT(n_green, 128 + 40);

  // Only the last previous token is the context; a different one gives a different list.
  std::vector<float> a(kVocab, 0.0f), b(kVocab, 0.0f), c(kVocab, 0.0f);
  std::vector<std::int32_t> long_ctx = {400, 3, 17};
  std::vector<std::int32_t> other_ctx = {18};
  wm.apply(a, prev);
  wm.apply(b, long_ctx);
  wm.apply(c, other_ctx);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // A different key gives a different list for the same context.
  std::vector<float> d(kVocab, 0.0f);
  WatermarkProcessor(key_from(2), params).apply(d, prev);
  EXPECT_NE(a, d);
}

TEST(Watermark, DetectsWatermarkedTextAndPassesPlainText) {
  auto key = key_from(42);
  WatermarkProcessor wm(key);
  int detected = 0, false_positives = 0;
  double entropy_sum = 0, z_wm = 0, z_plain = 0;
  constexpr int kRuns = 40;
  for (int run = 0; run < kRuns; ++run) {
    double h = 0;
    auto marked = generate(1000 + run, 200, &wm, &h);
    auto plain = generate(5000 + run, 200, nullptr, nullptr);
    entropy_sum += h;
    auto rm = detect(marked, key);
    auto rp = detect(plain, key);
    EXPECT_GT(rm.n_scored, 150u);
    detected += rm.watermarked;
    false_positives += rp.watermarked;
    z_wm += rm.z;
    z_plain += rp.z;
  }
  double mean_entropy = entropy_sum / kRuns;
  // The synthetic model must look like a language model, or the test proves nothing: mean
  // per-token entropy between 1 and 4.5 nats (uniform over 512 tokens would be 6.24).
  EXPECT_GT(mean_entropy, 1.0);
  EXPECT_LT(mean_entropy, 4.5);
  EXPECT_GE(detected, kRuns * 95 / 100);
  EXPECT_EQ(false_positives, 0);
  std::printf("synthetic: mean entropy %.2f nats, mean z watermarked %.2f, plain %.2f, detected %d/%d, FP %d/%d\n",
              mean_entropy, z_wm / kRuns, z_plain / kRuns, detected, kRuns, false_positives, kRuns);
}

TEST(Watermark, SurvivesTenPercentRandomReplacement) {
  auto key = key_from(42);
  WatermarkProcessor wm(key);
  int detected = 0;
  constexpr int kRuns = 40;
  for (int run = 0; run < kRuns; ++run) {
    auto tokens = generate(2000 + run, 200, &wm, nullptr);
    Rng edit(9000 + run);
    for (int k = 0; k < 20; ++k) tokens[static_cast<std::size_t>(edit.below(200))] = edit.below(kVocab);
    detected += detect(tokens, key).watermarked;
  }
  EXPECT_GE(detected, kRuns * 80 / 100);
  std::printf("synthetic, 10%% of tokens replaced: detected %d/%d\n", detected, kRuns);
}

TEST(Watermark, WrongKeySeesNothing) {
  WatermarkProcessor wm(key_from(42));
  int flagged = 0;
  for (int run = 0; run < 40; ++run) flagged += detect(generate(3000 + run, 200, &wm, nullptr), key_from(43)).watermarked;
  EXPECT_EQ(flagged, 0);
}

TEST(Watermark, NullDistributionIsStandardNormal) {
  // Token sequences made without any key: z should be ~N(0, 1) and p-values ~U(0, 1).
  auto key = key_from(5);
  constexpr int kRuns = 400;
  std::vector<double> zs;
  int below_5pct = 0, flagged = 0;
  for (int run = 0; run < kRuns; ++run) {
    Rng rng(70000 + run);
    std::vector<std::int32_t> tokens(200);
    for (auto& t : tokens) t = rng.below(kVocab);
    auto r = detect(tokens, key);
    zs.push_back(r.z);
    below_5pct += r.p_value < 0.05;
    flagged += r.watermarked;
  }
  double mean = std::accumulate(zs.begin(), zs.end(), 0.0) / kRuns;
  double var = 0;
  for (double z : zs) var += (z - mean) * (z - mean);
  double sd = std::sqrt(var / (kRuns - 1));
  EXPECT_NEAR(mean, 0.0, 0.2);
  EXPECT_NEAR(sd, 1.0, 0.15);
  EXPECT_GT(below_5pct, kRuns * 2 / 100);
  EXPECT_LT(below_5pct, kRuns * 9 / 100);
  EXPECT_EQ(flagged, 0);
}

TEST(Watermark, RepeatedPairsAreScoredOnce) {
  auto key = key_from(42);
  std::vector<std::int32_t> tokens;
  for (int i = 0; i < 100; ++i) {
    tokens.push_back(11);
    tokens.push_back(12);
  }
  auto r = detect(tokens, key);
  EXPECT_EQ(r.n_scored, 2u);  // (11,12) and (12,11)
  EXPECT_FALSE(r.watermarked);

  // Even a pair that happens to be green cannot push repetitive text over the threshold.
  GreenList green(key, 0.25);
  int a = 0, b = 0;
  for (; a < kVocab && b == 0; ++a) {
    for (int c = 0; c < kVocab; ++c) {
      if (c != a && green.is_green(green.context_seed(a), c) && green.is_green(green.context_seed(c), a)) {
        b = c;
        break;
      }
    }
  }
  ASSERT_NE(b, 0);
  --a;
  std::vector<std::int32_t> loop;
  for (int i = 0; i < 200; ++i) loop.push_back(i % 2 ? b : a);
  auto rl = detect(loop, key);
  EXPECT_EQ(rl.n_scored, 2u);
  EXPECT_EQ(rl.n_green, 2u);
  EXPECT_FALSE(rl.watermarked);
}

TEST(Watermark, EdgeCases) {
  auto key = key_from(42);
  EXPECT_EQ(detect(std::vector<std::int32_t>{}, key).n_scored, 0u);
  auto one = detect(std::vector<std::int32_t>{5}, key);
  EXPECT_EQ(one.n_scored, 0u);
  EXPECT_EQ(one.p_value, 1.0);
  EXPECT_FALSE(one.watermarked);
  EXPECT_THROW(GreenList(key, 0.0), Error);
  EXPECT_THROW(GreenList(key, 1.0), Error);
  // An empty context (first token of a generation with no prompt) is allowed.
  std::vector<float> logits(kVocab, 0.0f);
  WatermarkProcessor(key).apply(logits, {});
  EXPECT_GT(std::count(logits.begin(), logits.end(), 2.0f), 0);
}

}  // namespace
}  // namespace autarky::compliance

// Sampler chain properties: greedy equivalences, distributions that sum to 1, truncations that
// keep exactly what their definition says, penalties in the right direction, seeded determinism.

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <random>

#include "base/error.h"
#include "sampling/sampler.h"
#include "test_support.h"

namespace autarky {
namespace {

std::vector<float> random_logits(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 3.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::int32_t argmax(const std::vector<float>& v) {
  return static_cast<std::int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

SamplingParams unrestricted(float temp) {
  SamplingParams p;
  p.temperature = temp;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  return p;
}

TEST(Sampler, TopKOneAndZeroTemperatureAreGreedy) {
  for (std::uint32_t seed = 0; seed < 20; ++seed) {
    auto logits = random_logits(300, seed);
    SamplingParams k1 = unrestricted(1.3f);
    k1.top_k = 1;
    k1.seed = seed;
    Sampler a(k1, 300), b(unrestricted(0.0f), 300);
    EXPECT_EQ(a.sample(logits), argmax(logits));
    EXPECT_EQ(b.sample(logits), argmax(logits));
  }
}

TEST(Sampler, DistributionSumsToOneAndMatchesSoftmaxWithTemperature) {
  auto logits = random_logits(200, 1);
  Sampler s(unrestricted(0.7f), 200);
  auto d = s.distribution(logits);
  ASSERT_EQ(d.size(), 200u);
  double sum = 0.0;
  for (const auto& t : d) sum += t.p;
  EXPECT_NEAR(sum, 1.0, 1e-5);
  double z = 0.0;
  const float mx = *std::max_element(logits.begin(), logits.end());
  for (float l : logits) z += std::exp((l - mx) / 0.7);
  for (const auto& t : d) EXPECT_NEAR(t.p, std::exp((logits[t.id] - mx) / 0.7) / z, 1e-5);
  for (std::size_t i = 1; i < d.size(); ++i) EXPECT_GE(d[i - 1].p, d[i].p);  // most likely first
}

TEST(Sampler, TopKKeepsTheKLargest) {
  auto logits = random_logits(100, 2);
  SamplingParams p = unrestricted(1.0f);
  p.top_k = 7;
  auto d = Sampler(p, 100).distribution(logits);
  ASSERT_EQ(d.size(), 7u);
  auto sorted = logits;
  std::sort(sorted.rbegin(), sorted.rend());
  for (const auto& t : d) EXPECT_GE(logits[t.id], sorted[6]);
}

TEST(Sampler, TopPKeepsTheSmallestPrefixReachingP) {
  auto logits = random_logits(100, 3);
  SamplingParams p = unrestricted(1.0f);
  p.top_p = 0.8f;
  auto kept = Sampler(p, 100).distribution(logits);
  auto full = Sampler(unrestricted(1.0f), 100).distribution(logits);
  double mass_without_last = 0.0;
  double mass = 0.0;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(kept[i].id, full[i].id);
    mass += full[i].p;
    if (i + 1 < kept.size()) mass_without_last += full[i].p;
  }
  EXPECT_GE(mass, 0.8 - 1e-6);
  EXPECT_LT(mass_without_last, 0.8);
}

TEST(Sampler, MinPKeepsTokensWithinAFactorOfTheBest) {
  auto logits = random_logits(100, 4);
  SamplingParams p = unrestricted(1.0f);
  p.min_p = 0.1f;
  auto kept = Sampler(p, 100).distribution(logits);
  const float best = *std::max_element(logits.begin(), logits.end());
  std::size_t expected = 0;
  for (float l : logits) expected += std::exp(l - best) >= 0.1f ? 1 : 0;
  EXPECT_EQ(kept.size(), expected);
}

TEST(Sampler, PenaltiesLowerRepeatedTokens) {
  std::vector<float> logits = {2.0f, -1.0f, 1.0f, 0.5f};
  SamplingParams p = unrestricted(1.0f);
  p.repeat_penalty = 2.0f;
  Sampler s(p, 4);
  auto before = Sampler(unrestricted(1.0f), 4).distribution(logits);
  s.accept(0);
  s.accept(1);
  auto d = s.distribution(logits);
  auto prob = [](const std::vector<TokenProb>& v, int id) {
    return std::find_if(v.begin(), v.end(), [&](const TokenProb& t) { return t.id == id; })->p;
  };
  EXPECT_LT(prob(d, 0), prob(before, 0));  // positive logit divided
  EXPECT_LT(prob(d, 1), prob(before, 1));  // negative logit multiplied
  EXPECT_GT(prob(d, 2), prob(before, 2));  // untouched tokens gain the freed mass

  SamplingParams f = unrestricted(1.0f);
  f.frequency_penalty = 0.5f;
  f.presence_penalty = 0.25f;
  Sampler g(f, 4);
  for (int i = 0; i < 3; ++i) g.accept(2);
  auto dg = g.distribution(logits);
  auto ratio = prob(dg, 2) / prob(dg, 3);
  EXPECT_NEAR(std::log(ratio), (1.0 - 3 * 0.5 - 0.25) - 0.5, 1e-5);  // logits 1.0 -> -0.75 vs 0.5
}

TEST(Sampler, PenaltyWindowForgetsOldTokens) {
  std::vector<float> logits = {1.0f, 1.0f};
  SamplingParams p = unrestricted(1.0f);
  p.presence_penalty = 5.0f;
  p.penalty_last_n = 2;
  Sampler s(p, 2);
  s.accept(0);
  s.accept(1);
  s.accept(1);  // token 0 left the window
  auto d = s.distribution(logits);
  EXPECT_EQ(d[0].id, 0);
}

TEST(Sampler, SameSeedSameTokensDifferentSeedDifferentTokens) {
  auto logits = random_logits(50, 5);
  auto draw = [&](std::uint64_t seed) {
    SamplingParams p = unrestricted(1.5f);
    p.seed = seed;
    Sampler s(p, 50);
    std::vector<std::int32_t> out;
    for (int i = 0; i < 64; ++i) out.push_back(s.sample(logits));
    return out;
  };
  EXPECT_EQ(draw(42), draw(42));
  EXPECT_NE(draw(42), draw(43));
}

// Over many draws the empirical frequencies follow the distribution.
TEST(Sampler, DrawsFollowTheDistribution) {
  std::vector<float> logits = {0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)};  // p = .1 .2 .3 .4
  SamplingParams p = unrestricted(1.0f);
  p.seed = 7;
  Sampler s(p, 4);
  std::map<int, int> counts;
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++counts[s.sample(logits)];
  for (int id = 0; id < 4; ++id) EXPECT_NEAR(counts[id] / double(n), (id + 1) / 10.0, 0.015) << id;
}

TEST(Sampler, RejectsOutOfRangeParameters) {
  SamplingParams p;
  p.top_p = 0.0f;
  EXPECT_THROW(Sampler(p, 10), Error);
  p = SamplingParams{};
  p.min_p = 1.5f;
  EXPECT_THROW(Sampler(p, 10), Error);
  p = SamplingParams{};
  p.repeat_penalty = 0.0f;
  EXPECT_THROW(Sampler(p, 10), Error);
}

// A processor that boosts the token after the last accepted one (mod n) and records the context
// it was given: the hook must run before the chain, see every accepted token, and leave the
// caller's logits alone.
class BoostNextProcessor final : public LogitProcessor {
 public:
  explicit BoostNextProcessor(std::vector<std::vector<std::int32_t>>* seen) : seen_(seen) {}
  void apply(std::span<float> logits, std::span<const std::int32_t> context) const override {
    seen_->emplace_back(context.begin(), context.end());
    const std::size_t target = context.empty() ? 0 : (static_cast<std::size_t>(context.back()) + 1) % logits.size();
    logits[target] += 100.0f;
  }

 private:
  std::vector<std::vector<std::int32_t>>* seen_;
};

TEST(Sampler, LogitProcessorsRunBeforeTheChainInGreedyAndSampledDecoding) {
  const auto logits = random_logits(64, 9);
  const auto original = logits;
  for (float temp : {0.0f, 0.9f}) {
    std::vector<std::vector<std::int32_t>> seen;
    SamplingParams p;  // default chain: top-k/top-p/min-p would drop the target without the boost
    p.temperature = temp;
    Sampler s(p, 64);
    s.accept(10);  // before the processor is added: still part of its context
    s.add_processor(std::make_shared<BoostNextProcessor>(&seen));
    s.accept(20);
    EXPECT_EQ(s.sample(logits), 21) << temp;
    auto d = s.distribution(logits);
    ASSERT_FALSE(d.empty());
    EXPECT_EQ(d[0].id, 21);
    EXPECT_GT(d[0].p, 0.99f);
    s.accept(21);
    EXPECT_EQ(s.sample(logits), 22);
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0], (std::vector<std::int32_t>{10, 20}));
    EXPECT_EQ(seen[2], (std::vector<std::int32_t>{10, 20, 21}));
    s.reset_history();
    EXPECT_EQ(s.sample(logits), 0);  // empty context: the processor boosts token 0
    EXPECT_TRUE(seen.back().empty());
  }
  EXPECT_EQ(logits, original);
}

}  // namespace
}  // namespace autarky

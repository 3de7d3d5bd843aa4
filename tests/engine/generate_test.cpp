// The generate loop and stop-string matching: limits and stop conditions, text held back while
// it may be part of a stop string, and greedy generation equal to the golden continuation.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "engine/generate.h"
#include "engine/stop_strings.h"
#include "test_support.h"

namespace autarky {
namespace {

TEST(StopStrings, HoldsBackPossiblePrefixesAndCutsAtTheStop) {
  StopStringMatcher m({"</s>", "STOP"});
  std::string shown;
  for (std::string_view piece : {"Hello <", "/", "x> and S", "TO", "P after"}) {
    auto r = m.feed(piece);
    shown += r.emit;
    if (r.stopped) break;
  }
  EXPECT_EQ(shown, "Hello </x> and ");
}

TEST(StopStrings, FlushReleasesHeldTextWithoutStop) {
  StopStringMatcher m({"abc"});
  auto r = m.feed("xxab");
  EXPECT_EQ(r.emit, "xx");
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(m.flush(), "ab");
}

TEST(StopStrings, EarliestStopWins) {
  StopStringMatcher m({"world", "lo w"});
  auto r = m.feed("hello world");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.emit, "hel");
}

class GenerateOnStories : public ::testing::Test {
 protected:
  GenerateOnStories() : model_(Model::load(test::bundled_model().string())), pool_(2) {}
  Model model_;
  ThreadPool pool_;
};

TEST_F(GenerateOnStories, GreedyMatchesGoldenContinuation) {
  AUTARKY_REQUIRE_GOLDEN();
  auto manifest = nlohmann::json::parse(std::ifstream(test::golden_dir() / "models" / "MANIFEST.json"));
  auto prompt = manifest["sequences"]["story"].get<std::vector<std::int32_t>>();
  auto expected = manifest["models"]["stories260K.gguf"]["runs"]["story"]["greedy_next_32"].get<std::vector<std::int32_t>>();
  Session session(model_, pool_, 64);
  SamplingParams p;
  p.temperature = 0.0f;
  Sampler sampler(p, model_.config().n_vocab);
  GenerateOptions o;
  o.max_tokens = 32;
  GenerateResult r = generate(session, sampler, prompt, o, nullptr, nullptr);
  EXPECT_EQ(r.tokens, expected);
  EXPECT_EQ(r.reason, StopReason::kMaxTokens);
  EXPECT_EQ(session.n_past(), static_cast<std::int64_t>(prompt.size() + expected.size() - 1));
}

TEST_F(GenerateOnStories, StopsAtEndTokenStopStringAndFullContext) {
  const std::vector<std::int32_t> prompt = {1, 403, 407, 261, 378};
  SamplingParams p;
  p.temperature = 0.0f;
  auto text = [](std::int32_t t) { return fmt::format("<{}>", t); };

  {  // end token: the first greedy token is declared an end token
    Session s(model_, pool_, 64);
    Sampler sampler(p, model_.config().n_vocab);
    GenerateOptions o;
    o.max_tokens = 10;
    Session probe(model_, pool_, 64);
    auto l = probe.prefill(prompt);
    o.end_tokens = {static_cast<std::int32_t>(std::max_element(l.begin(), l.end()) - l.begin())};
    GenerateResult r = generate(s, sampler, prompt, o, text, nullptr);
    EXPECT_EQ(r.reason, StopReason::kEndToken);
    EXPECT_TRUE(r.tokens.empty());
  }
  {  // stop string: the text of the third token; the first two are shown, nothing after
    Session s(model_, pool_, 64);
    Sampler sampler(p, model_.config().n_vocab);
    GenerateOptions o;
    o.max_tokens = 10;
    GenerateResult full = generate(s, sampler, prompt, o, nullptr, nullptr);
    ASSERT_GE(full.tokens.size(), 3u);
    Session s2(model_, pool_, 64);
    Sampler sampler2(p, model_.config().n_vocab);
    o.stop_strings = {text(full.tokens[2])};
    std::string shown;
    GenerateResult r = generate(s2, sampler2, prompt, o, text, [&](std::string_view t) { shown += t; });
    EXPECT_EQ(r.reason, StopReason::kStopString);
    EXPECT_EQ(shown, text(full.tokens[0]) + text(full.tokens[1]));
  }
  {  // full context: prompt 5 + room for 3 decoded tokens
    Session s(model_, pool_, 8);
    Sampler sampler(p, model_.config().n_vocab);
    GenerateResult r = generate(s, sampler, prompt, GenerateOptions{}, nullptr, nullptr);
    EXPECT_EQ(r.reason, StopReason::kContextFull);
    EXPECT_EQ(r.tokens.size(), 4u);  // 3 decoded into the cache + the last sampled one
  }
}

}  // namespace
}  // namespace autarky

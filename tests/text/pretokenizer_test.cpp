// Split behaviour of the pre-tokenizers that have no golden vectors (qwen2, llama3, deepseek-v3,
// and the per-stage rules of deepseek-llm / deepseek-coder beyond what their vectors touch). Each
// expected split below was worked out by hand from the published expressions and their
// semantics (leftmost match, alternatives tried in order, greedy quantifiers; in a sequence, both
// the matches and the text between them become pieces and the next expression cuts each piece
// again), not taken from any tokenizer's output. The comment above each case names the rule.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "text/pretokenizer.h"

namespace autarky::test {
namespace {

using Pieces = std::vector<std::string>;

Pieces split(std::string_view pre_name, std::string_view text) {
  const text::PreTokenizerSpec& spec = text::pre_tokenizer_for(pre_name, "test");
  EXPECT_NE(std::find(spec.names.begin(), spec.names.end(), pre_name), spec.names.end()) << pre_name << " is not known";
  const text::RegexSplitter splitter(spec.patterns);
  std::vector<text::TextSpan> spans;
  splitter.split(text, spans);
  Pieces out;
  for (const auto& s : spans) out.emplace_back(text.substr(s.offset, s.length));
  return out;
}

// Rules shared by the Llama 3 and Qwen2 expressions (they differ only in digit grouping).
void expect_llama3_family_rules(std::string_view name) {
  SCOPED_TRACE(std::string(name));
  // A letter run takes one leading non-letter, non-digit, non-newline character (the space).
  EXPECT_EQ(split(name, "Hello world"), (Pieces{"Hello", " world"}));
  // Contractions come first and fold ASCII case only.
  EXPECT_EQ(split(name, "I'm don't"), (Pieces{"I", "'m", " don", "'t"}));
  EXPECT_EQ(split(name, "DON'T WE'LL"), (Pieces{"DON", "'T", " WE", "'LL"}));
  // CJK characters are letters (\p{Lo}): a run stays whole, with its leading space.
  EXPECT_EQ(split(name, "我喜欢 你好"), (Pieces{"我喜欢", " 你好"}));
  // Punctuation takes an optional space before it and the newlines right after it.
  EXPECT_EQ(split(name, "hello!!!\n\nworld"), (Pieces{"hello", "!!!\n\n", "world"}));
  // A newline run (with the whitespace before it) is one piece.
  EXPECT_EQ(split(name, "a \n\n\nb"), (Pieces{"a", " \n\n\n", "b"}));
  // In a run of spaces the last one is left to the next word: \s+(?!\S) backs off one.
  EXPECT_EQ(split(name, "a   b"), (Pieces{"a", "  ", " b"}));
  // Trailing spaces stay together.
  EXPECT_EQ(split(name, "a   "), (Pieces{"a", "   "}));
  // A symbol before a letter is absorbed like the space is; before a digit it is punctuation.
  EXPECT_EQ(split(name, "$x $5"), (Pieces{"$x", " $", "5"}));
  // Tabs are whitespace but not newlines.
  EXPECT_EQ(split(name, "\tx"), (Pieces{"\tx"}));
}

TEST(PreTokenizer, Qwen2SplitsEveryDigit) {
  expect_llama3_family_rules("qwen2");
  EXPECT_EQ(split("qwen2", "12345"), (Pieces{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(split("qwen2", "v2.10"), (Pieces{"v", "2", ".", "1", "0"}));
  // Digits are \p{N}: fullwidth digits split the same way.
  EXPECT_EQ(split("qwen2", "\xEF\xBC\x91\xEF\xBC\x92"), (Pieces{"\xEF\xBC\x91", "\xEF\xBC\x92"}));
}

TEST(PreTokenizer, Llama3GroupsDigitsByThreeFromTheLeft) {
  for (std::string_view name : {"llama3", "llama-bpe"}) {
    expect_llama3_family_rules(name);
    EXPECT_EQ(split(name, "1234567"), (Pieces{"123", "456", "7"}));
    EXPECT_EQ(split(name, "ab 12"), (Pieces{"ab", " ", "12"}));
  }
  EXPECT_TRUE(text::pre_tokenizer_for("llama-bpe", "test").ignore_merges);
  EXPECT_FALSE(text::pre_tokenizer_for("qwen2", "test").ignore_merges);
}

TEST(PreTokenizer, DeepseekV3DigitsCjkThenWords) {
  // Stage 1 isolates digit groups of up to three.
  EXPECT_EQ(split("deepseek-v3", "1234567"), (Pieces{"123", "456", "7"}));
  EXPECT_EQ(split("deepseek-v3", "abc1234def"), (Pieces{"abc", "123", "4", "def"}));
  // Stage 2 isolates runs of CJK ideographs and kana (one run across scripts).
  EXPECT_EQ(split("deepseek-v3", "我喜欢Python编程"), (Pieces{"我喜欢", "Python", "编程"}));
  EXPECT_EQ(split("deepseek-v3", "ひらがなカタカナ漢字"), (Pieces{"ひらがなカタカナ漢字"}));
  // Stage 3: one ASCII punctuation character followed by ASCII letters is one piece...
  EXPECT_EQ(split("deepseek-v3", "x.hello"), (Pieces{"x", ".hello"}));
  EXPECT_EQ(split("deepseek-v3", "it's"), (Pieces{"it", "'s"}));
  // ...but with a space before the punctuation, the space and punctuation go together.
  EXPECT_EQ(split("deepseek-v3", "a .hello"), (Pieces{"a", " .", "hello"}));
  EXPECT_EQ(split("deepseek-v3", "Hello world!\n\nBye"), (Pieces{"Hello", " world", "!\n\n", "Bye"}));
  // Hangul is not in the stage-2 ranges: it is a letter run of stage 3.
  EXPECT_EQ(split("deepseek-v3", " 한국어"), (Pieces{" 한국어"}));
}

TEST(PreTokenizer, DeepseekLlmStages) {
  // Each \r and \n is its own piece (stage 1), before anything else.
  EXPECT_EQ(split("deepseek-llm", "Hello, world!\n"), (Pieces{"Hello", ",", " world", "!", "\n"}));
  EXPECT_EQ(split("deepseek-llm", "a\n\nb"), (Pieces{"a", "\n", "\n", "b"}));
  // Digits are not letters or punctuation: the space before them is left alone, the run whole.
  EXPECT_EQ(split("deepseek-llm", "price 12345 yen"), (Pieces{"price", " ", "12345", " yen"}));
  // CJK is not in the letter ranges; stage 5 keeps the run whole.
  EXPECT_EQ(split("deepseek-llm", "你好世界abc"), (Pieces{"你好世界", "abc"}));
  // Two spaces before a word: \s? takes one.
  EXPECT_EQ(split("deepseek-llm", "x  y"), (Pieces{"x", " ", " y"}));
}

TEST(PreTokenizer, DeepseekCoderStages) {
  // '=' is a symbol (\p{Sm}), not punctuation: it stays in the gap, digits split one by one.
  EXPECT_EQ(split("deepseek-coder", "foo(bar) = 42;\n"), (Pieces{"foo", "(", "bar", ")", " = ", "4", "2", ";", "\n"}));
  // CJK characters are \p{L}, so stage 2 takes "中文abc" and " 한국" whole; stage 4 then cuts
  // each of those pieces again around its CJK/Hangul run.
  EXPECT_EQ(split("deepseek-coder", "中文abc 한국"), (Pieces{"中文", "abc", " ", "한국"}));
}

TEST(PreTokenizer, PiecesAlwaysCoverTheText) {
  const std::string text = "Mixed: 中文 12345 can't \r\n\t  ‘quotes’ 🦙 $9.99 ...\n\n";
  for (std::string_view name : {"qwen2", "llama3", "deepseek-v3", "deepseek-llm", "deepseek-coder", "gpt-2", "default",
                                "falcon", "starcoder", "tekken", "bloom"}) {
    std::string joined;
    for (const auto& p : split(name, text)) {
      EXPECT_FALSE(p.empty()) << name;
      joined += p;
    }
    EXPECT_EQ(joined, text) << name;
  }
}

}  // namespace
}  // namespace autarky::test

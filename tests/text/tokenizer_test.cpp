// Properties of the tokenizers that the golden vectors do not pin down: round trips, special
// tokens only when asked, BOS/EOS flags, malformed UTF-8, streaming decode, bad vocabularies.

#include <gtest/gtest.h>

#include <random>

#include "base/error.h"
#include "gguf/gguf_writer.h"
#include "test_support.h"
#include "text/streaming_decoder.h"
#include "text/utf8.h"
#include "text/vocab_cases.h"

namespace autarky::test {
namespace {

using text::Tokenizer;

std::vector<std::string> all_golden_texts() {
  auto texts = read_vocab_cases(golden_dir() / "vocab" / "extra.inp");
  auto basic = read_vocab_cases(golden_dir() / "vocab" / "ggml-vocab-gpt-2.gguf.inp");
  texts.insert(texts.end(), basic.begin(), basic.end());
  return texts;
}

TEST(Tokenizer, DecodeInvertsEncodeOnEveryGoldenText) {
  AUTARKY_REQUIRE_GOLDEN();
  const auto texts = all_golden_texts();
  for (const auto& name : golden_vocab_names()) {
    const Tokenizer& tok = golden_tokenizer(name);
    for (std::size_t i = 0; i < texts.size(); ++i) {
      const auto ids = tok.encode(texts[i], false, false);
      EXPECT_EQ(tok.decode(ids), texts[i]) << name << " text " << i;
    }
  }
}

TEST(Tokenizer, StreamingEmitsOnlyCompleteUtf8AndAddsUpToDecode) {
  AUTARKY_REQUIRE_GOLDEN();
  const auto texts = all_golden_texts();
  for (const auto& name : golden_vocab_names()) {
    const Tokenizer& tok = golden_tokenizer(name);
    std::size_t held_back = 0;
    for (const auto& t : texts) {
      const auto ids = tok.encode(t, false, false);
      text::StreamingDecoder stream(tok, /*strip_leading_space=*/true);
      std::string joined;
      for (std::int32_t id : ids) {
        const std::string chunk = stream.push(id);
        ASSERT_TRUE(text::is_valid_utf8(chunk)) << name << ": broken chunk after token " << id;
        if (stream.pending_bytes() > 0) ++held_back;
        joined += chunk;
      }
      EXPECT_EQ(stream.pending_bytes(), 0u);
      joined += stream.finish();
      EXPECT_EQ(joined, t) << name;
    }
    // The texts include Chinese, Japanese and emoji, which every one of these vocabularies
    // splits into partial-character tokens somewhere.
    EXPECT_GT(held_back, 0u) << name;
  }
}

TEST(Tokenizer, ByteFallbackCharacterIsHeldBackUntilComplete) {
  AUTARKY_REQUIRE_GOLDEN();
  const Tokenizer& tok = golden_tokenizer("llama-spm");
  const std::string llama = "\xF0\x9F\xA6\x99";  // U+1F999, not in the vocabulary: four byte tokens
  const auto ids = tok.encode(llama, false, false);
  ASSERT_EQ(ids.size(), 5u);  // "▁" then <0xF0> <0x9F> <0xA6> <0x99>
  text::StreamingDecoder stream(tok, true);
  EXPECT_EQ(stream.push(ids[0]), "");
  EXPECT_EQ(stream.push(ids[1]), "");
  EXPECT_EQ(stream.push(ids[2]), "");
  EXPECT_EQ(stream.push(ids[3]), "");
  EXPECT_EQ(stream.push(ids[4]), llama);
  EXPECT_EQ(stream.finish(), "");
}

TEST(Tokenizer, StreamingReplacesBytesThatCannotBecomeACharacter) {
  AUTARKY_REQUIRE_GOLDEN();
  const Tokenizer& tok = golden_tokenizer("llama-spm");
  const std::int32_t e4 = tok.vocab().find("<0xE4>");
  const std::int32_t a = tok.vocab().find("a");
  ASSERT_GE(e4, 0);
  ASSERT_GE(a, 0);
  text::StreamingDecoder stream(tok);
  EXPECT_EQ(stream.push(e4), "");
  EXPECT_EQ(stream.pending_bytes(), 1u);
  EXPECT_EQ(stream.push(a), "\xEF\xBF\xBD" "a");
  EXPECT_EQ(stream.push(e4), "");
  EXPECT_EQ(stream.finish(), "\xEF\xBF\xBD");  // the stream ended inside a character
}

TEST(Tokenizer, StreamKeepsTheSpaceBeforeAContinuation) {
  AUTARKY_REQUIRE_GOLDEN();
  const Tokenizer& tok = golden_tokenizer("llama-spm");
  const auto ids = tok.encode("Hello world", false, false);
  text::StreamingDecoder continuation(tok, /*strip_leading_space=*/false);
  std::string s;
  for (auto id : ids) s += continuation.push(id);
  EXPECT_EQ(s, " Hello world");
  EXPECT_EQ(tok.decode(ids), "Hello world");
}

TEST(Tokenizer, ControlTokensOnlyWhenParsingSpecials) {
  AUTARKY_REQUIRE_GOLDEN();
  {
    const Tokenizer& tok = golden_tokenizer("llama-spm");
    const auto plain = tok.encode("<s>Hi</s>", false, false);
    for (auto id : plain) {
      EXPECT_FALSE(tok.is_control(id)) << id;
    }
    EXPECT_EQ(tok.decode(plain), "<s>Hi</s>");
    const auto parsed = tok.encode("<s>Hi</s>", false, true);
    ASSERT_GE(parsed.size(), 3u);
    EXPECT_EQ(parsed.front(), tok.bos());
    EXPECT_EQ(parsed.back(), tok.eos());
    // Text after a special token gets SentencePiece's leading space, like text at the start.
    const auto hi = tok.encode("Hi", false, false);
    EXPECT_EQ(std::vector<std::int32_t>(parsed.begin() + 1, parsed.end() - 1), hi);
    EXPECT_EQ(tok.decode(parsed), "Hi");
    EXPECT_EQ(tok.decode(parsed, {.render_special = true}), "<s> Hi</s>");
  }
  {
    const Tokenizer& tok = golden_tokenizer("gpt-2");
    const std::string text = "a<|endoftext|>b";
    const auto plain = tok.encode(text, false, false);
    for (auto id : plain) EXPECT_NE(id, 50256);
    EXPECT_EQ(tok.decode(plain), text);
    const auto parsed = tok.encode(text, false, true);
    ASSERT_EQ(parsed.size(), 3u);
    EXPECT_EQ(parsed[1], 50256);
    EXPECT_TRUE(tok.is_eog(50256));
  }
}

TEST(Tokenizer, AddSpecialFollowsTheVocabularyFlags) {
  AUTARKY_REQUIRE_GOLDEN();
  const Tokenizer& spm = golden_tokenizer("llama-spm");
  EXPECT_TRUE(spm.add_bos());
  EXPECT_EQ(spm.encode("", true, false), std::vector<std::int32_t>{1});
  EXPECT_TRUE(spm.encode("", false, false).empty());
  EXPECT_EQ(spm.encode("x", true, false).front(), 1);
  EXPECT_TRUE(spm.is_eog(spm.eos()));
  EXPECT_FALSE(spm.is_eog(spm.bos()));

  const Tokenizer& gpt2 = golden_tokenizer("gpt-2");
  EXPECT_FALSE(gpt2.add_bos());
  EXPECT_EQ(gpt2.encode("x", true, false), gpt2.encode("x", false, false));

  const Tokenizer& ds = golden_tokenizer("deepseek-llm");
  EXPECT_EQ(ds.encode("x", true, false).front(), 100000);
}

TEST(Tokenizer, MalformedUtf8IsReplacedNeverFatal) {
  AUTARKY_REQUIRE_GOLDEN();
  const std::vector<std::string> bad = {"\xFF", "abc\xE4\xB8", "\xC0\x80 overlong", "\xED\xA0\x80 surrogate",
                                        "\xF4\x90\x80\x80 too big", "\x80\x80\x80", std::string("nul\0byte", 8)};
  std::mt19937 rng(1234);
  std::vector<std::string> inputs = bad;
  for (int i = 0; i < 200; ++i) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xFF);
    inputs.push_back(s);
  }
  for (const std::string name : {"llama-spm", "gpt-2", "deepseek-coder", "falcon"}) {
    const Tokenizer& tok = golden_tokenizer(name);
    for (const auto& s : inputs) {
      const auto ids = tok.encode(s, true, true);
      const auto plain = tok.encode(s, false, false);
      EXPECT_EQ(plain, tok.encode(text::repair_utf8(s), false, false)) << name;
      // Falcon's vocabulary has no token for 28 of the 256 bytes (control characters, bytes
      // that never occur in UTF-8), so those bytes cannot survive a round trip there.
      if (name != "falcon") {
        EXPECT_EQ(tok.decode(plain), text::repair_utf8(s)) << name;
      }
      for (auto id : ids) {
        ASSERT_GE(id, 0);
        ASSERT_LT(id, tok.n_vocab());
      }
    }
  }
}

TEST(Tokenizer, TokenIdsOutsideTheVocabularyAreErrors) {
  AUTARKY_REQUIRE_GOLDEN();
  const Tokenizer& tok = golden_tokenizer("gpt-2");
  EXPECT_THROW(tok.token_to_piece(-1), Error);
  EXPECT_THROW(tok.token_to_piece(tok.n_vocab()), Error);
  const std::vector<std::int32_t> ids = {15496, 1000000};
  EXPECT_THROW(tok.decode(ids), Error);
}

TEST(Tokenizer, LongWhitespaceAndRepeatsStayLinear) {
  AUTARKY_REQUIRE_GOLDEN();
  // Long runs exercise the heap merge path and the regex engine's backtracking limits.
  const std::string spaces(20000, ' ');
  const std::string letters(20000, 'a');
  const std::string digits(5000, '7');
  for (const auto& name : golden_vocab_names()) {
    const Tokenizer& tok = golden_tokenizer(name);
    for (const auto& s : {spaces + "x", letters, digits, std::string(3000, '\n') + spaces}) {
      EXPECT_EQ(tok.decode(tok.encode(s, false, false)), s) << name;
    }
  }
}

// A vocabulary written here, to check loading errors name what is wrong.
std::string write_vocab(const TempDir& dir, const std::function<void(GgufWriter&)>& edit) {
  GgufWriter w;
  w.set("general.architecture", std::string("llama"));
  w.set("tokenizer.ggml.model", std::string("llama"));
  GgufArray tokens{GgufType::STRING, {}};
  GgufArray scores{GgufType::FLOAT32, {}};
  for (const char* t : {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "b", "\xE2\x96\x81" "a", "ab"}) {
    tokens.items.emplace_back(std::string(t));
    scores.items.emplace_back(0.0f);
  }
  w.set("tokenizer.ggml.tokens", tokens);
  w.set("tokenizer.ggml.scores", scores);
  edit(w);
  const std::string path = (dir / "vocab.gguf").string();
  w.write(path);
  return path;
}

TEST(Vocab, BadMetadataIsAnErrorNamingTheKey) {
  TempDir dir;
  auto expect_error = [&](const std::function<void(GgufWriter&)>& edit, const std::string& needle) {
    const std::string path = write_vocab(dir, edit);
    const GgufFile f = GgufFile::open(path);
    try {
      Tokenizer::from_gguf(f);
      ADD_FAILURE() << "no error, expected one mentioning " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error([](GgufWriter& w) { w.set("tokenizer.ggml.model", std::string("bert")); }, "tokenizer.ggml.model");
  expect_error([](GgufWriter& w) { w.remove("tokenizer.ggml.model"); }, "tokenizer.ggml.model");
  expect_error([](GgufWriter& w) { w.set("tokenizer.ggml.scores", GgufArray{GgufType::FLOAT32, {GgufValue(1.0f)}}); },
               "tokenizer.ggml.scores");
  expect_error([](GgufWriter& w) { w.set("tokenizer.ggml.model", std::string("gpt2")); }, "tokenizer.ggml.merges");
}

TEST(Vocab, SentencePieceMergesByScore) {
  TempDir dir;
  // Scores favour "ab" over "▁a", so " ab" is "▁" + "ab"; with them swapped it is "▁a" + "b".
  auto tokenize_with = [&](float score_lead_a, float score_ab) {
    const std::string path = write_vocab(dir, [&](GgufWriter& w) {
      GgufArray scores{GgufType::FLOAT32, {}};
      for (float s : {0.0f, 0.0f, 0.0f, -5.0f, -5.0f, -5.0f, score_lead_a, score_ab}) scores.items.emplace_back(s);
      w.set("tokenizer.ggml.scores", scores);
    });
    const GgufFile f = GgufFile::open(path);
    return Tokenizer::from_gguf(f)->encode("ab", false, false);
  };
  EXPECT_EQ(tokenize_with(-2.0f, -1.0f), (std::vector<std::int32_t>{3, 7}));
  EXPECT_EQ(tokenize_with(-1.0f, -2.0f), (std::vector<std::int32_t>{6, 5}));
}

TEST(Vocab, SentencePieceTokenAcrossASpaceDisablesWordCutting) {
  // Llama-style vocabularies never join a character to the "▁" after it, so text is merged word
  // by word. A vocabulary with such a token ("a▁", the best merge here) must be merged as one
  // sequence: "a b" -> "▁" "a▁" "b", where word cutting would give "▁a" "▁b".
  TempDir dir;
  const std::string path = write_vocab(dir, [](GgufWriter& w) {
    GgufArray tokens{GgufType::STRING, {}};
    GgufArray scores{GgufType::FLOAT32, {}};
    const std::pair<const char*, float> entries[] = {{"<unk>", 0}, {"<s>", 0}, {"</s>", 0}, {"\xE2\x96\x81", -5},
                                                     {"a", -5},     {"b", -5},  {"\xE2\x96\x81" "a", -2},
                                                     {"\xE2\x96\x81" "b", -2}, {"a\xE2\x96\x81", -1}};
    for (const auto& [text, score] : entries) {
      tokens.items.emplace_back(std::string(text));
      scores.items.emplace_back(score);
    }
    w.set("tokenizer.ggml.tokens", tokens);
    w.set("tokenizer.ggml.scores", scores);
  });
  const GgufFile f = GgufFile::open(path);
  const auto tok = Tokenizer::from_gguf(f);
  EXPECT_EQ(tok->encode("a b", false, false), (std::vector<std::int32_t>{3, 8, 5}));
  EXPECT_EQ(tok->decode(tok->encode("a b", false, false)), "a b");
}

TEST(Utf8, CompletePrefixHoldsOnlyPossibleCharacters) {
  using text::complete_prefix_length;
  EXPECT_EQ(complete_prefix_length(""), 0u);
  EXPECT_EQ(complete_prefix_length("abc"), 3u);
  EXPECT_EQ(complete_prefix_length("a\xE4\xB8"), 1u);
  EXPECT_EQ(complete_prefix_length("a\xE4\xB8\xAD"), 4u);
  EXPECT_EQ(complete_prefix_length("\xF0\x9F\xA6"), 0u);
  EXPECT_EQ(complete_prefix_length("a\xFF"), 2u);      // never a lead byte: nothing to wait for
  EXPECT_EQ(complete_prefix_length("\xE4" "a"), 2u);   // broken already
  EXPECT_EQ(complete_prefix_length("\xED\xA0"), 2u);   // would be a surrogate
  EXPECT_EQ(text::repair_utf8("a\xE4\xB8"), "a\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_TRUE(text::is_valid_utf8("\xF0\x9F\xA6\x99"));
  EXPECT_FALSE(text::is_valid_utf8("\xC0\x80"));
}

}  // namespace
}  // namespace autarky::test

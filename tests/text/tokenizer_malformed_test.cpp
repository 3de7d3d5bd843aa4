// Hostile input for every golden vocabulary: invalid UTF-8, encoded surrogates, NULs, and inputs
// of 128 KiB to 1 MiB made of one character or one short pattern. Tokenizing must not crash, must round-trip
// (after invalid bytes become U+FFFD), and must not go quadratic: a quadratic step on 1 MiB is
// ~10^12 operations and would blow the test's time limit, so finishing at all is the check (the
// suite asserts no timings). These also run under ASan+UBSan in CI.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "text/streaming_decoder.h"
#include "text/utf8.h"
#include "text/vocab_cases.h"

namespace autarky::test {
namespace {

std::string repeat(std::string_view unit, std::size_t total_bytes) {
  std::string out;
  out.reserve(total_bytes + unit.size());
  while (out.size() < total_bytes) out.append(unit);
  return out;
}

// Sizes of the long inputs: 128 KiB for every vocabulary and case (a quadratic step there is
// still ~10^10 operations), 1 MiB for a few; a quarter of that under ASan, which is ~10x slower.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kSanitizerDivisor = 4;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr std::size_t kSanitizerDivisor = 4;
#else
constexpr std::size_t kSanitizerDivisor = 1;
#endif
#else
constexpr std::size_t kSanitizerDivisor = 1;
#endif
constexpr std::size_t kBig = (std::size_t{1} << 17) / kSanitizerDivisor;
constexpr std::size_t kHuge = (std::size_t{1} << 20) / kSanitizerDivisor;

// Falcon's vocabulary has no token for some control bytes (NUL among them): those cannot survive
// a round trip there, so it only gets the no-crash checks for inputs containing them.
bool spells_every_byte(const std::string& name) { return name != "falcon"; }

void expect_round_trip(const std::string& name, const std::string& input, bool has_unspellable_bytes) {
  const text::Tokenizer& tok = golden_tokenizer(name);
  const std::vector<std::int32_t> ids = tok.encode(input, false, false);
  for (std::int32_t id : ids) {
    ASSERT_GE(id, 0);
    ASSERT_LT(id, tok.n_vocab());
  }
  const std::string expected = text::repair_utf8(input);
  const std::string decoded = tok.decode(ids);
  EXPECT_TRUE(text::is_valid_utf8(decoded)) << name;
  if (!has_unspellable_bytes || spells_every_byte(name)) {
    EXPECT_TRUE(decoded == expected) << name << ": round trip differs on " << input.size() << "-byte input starting "
                                     << testing::PrintToString(input.substr(0, 16));
  }
}

TEST(TokenizerMalformed, InvalidUtf8SurrogatesAndNuls) {
  AUTARKY_REQUIRE_GOLDEN();
  const std::vector<std::string> inputs = {
      "\xED\xA0\xBD\xED\xB8\x80",            // U+1F600 as a CESU-8 surrogate pair
      "lone \xED\xB0\x80 low surrogate",     // U+DC00
      "\xED\x9F\xBF ok, \xEE\x80\x80 ok",    // U+D7FF and U+E000, the valid neighbours
      std::string("\0\0\0 nul \0", 10),      // NULs are ordinary characters
      "\xC0\xAF \xE0\x80\xAF \xF0\x80\x80\xAF",  // overlong '/'
      "\xF8\x88\x80\x80\x80 \xFC\x84\x80\x80\x80\x80",  // 5- and 6-byte forms
      "cut \xF0\x9F\xA6",                     // truncated at the end
      "\xE4\xB8 mid \xE4 \xB8\xAD",            // truncated in the middle, stray continuation
      "\xFE\xFF\xFF\xFE",                     // byte-order marks that are not UTF-8
      "\xEF\xBB\xBF" "BOM then text",  // a real UTF-8 BOM
  };
  for (const auto& name : golden_vocab_names()) {
    for (const auto& s : inputs) expect_round_trip(name, s, s.find('\0') != std::string::npos);
  }
}

TEST(TokenizerMalformed, LongRunsOfOneCharacter) {
  AUTARKY_REQUIRE_GOLDEN();
  struct Case {
    const char* what;
    std::string unit;
    bool unspellable;
  };
  const std::vector<Case> cases = {
      {"spaces", " ", false},     {"letter", "a", false},           {"digits", "7", false},
      {"newlines", "\n", false},  {"CJK", "\xE4\xB8\xAD", false},     {"emoji", "\xF0\x9F\xA6\x99", false},
      {"NUL", std::string(1, '\0'), true}, {"invalid byte", "\xFF", false},
  };
  for (const auto& name : golden_vocab_names()) {
    for (const auto& c : cases) {
      SCOPED_TRACE(c.what);
      expect_round_trip(name, repeat(c.unit, kBig), c.unspellable);
    }
  }
}

TEST(TokenizerMalformed, LongRunsBeforeAnotherClassOfCharacter) {
  AUTARKY_REQUIRE_GOLDEN();
  // Whitespace runs ending in something else are where regex alternatives like \s+(?!\S) or
  // \s+$ back off: each must do so once per run, not once per position.
  const std::vector<std::string> inputs = {
      repeat(" ", kBig) + "x", repeat(" ", kBig) + "1", repeat(" ", kBig) + "\xE4\xB8\xAD", repeat(" ", kBig) + "!",
      repeat("\t", kBig) + "\n", repeat(" \n", kBig) + "x", repeat("ab ", kBig), repeat("1.", kBig),
  };
  for (const auto& name : golden_vocab_names()) {
    for (const auto& s : inputs) expect_round_trip(name, s, false);
  }
}

TEST(TokenizerMalformed, OneMebibyteOfOneCharacter) {
  AUTARKY_REQUIRE_GOLDEN();
  for (const std::string name : {"llama-spm", "gpt-2", "deepseek-llm"}) {
    for (const std::string unit : {" ", "a", "\xE4\xB8\xAD"}) expect_round_trip(name, repeat(unit, kHuge), false);
  }
}

TEST(TokenizerMalformed, StreamingAHugeByteFallbackRun) {
  AUTARKY_REQUIRE_GOLDEN();
  // U+1F999 is not in Llama's vocabulary: 4 byte tokens each; the decoder must hold at most one
  // character back at a time and never emit a partial one.
  const text::Tokenizer& tok = golden_tokenizer("llama-spm");
  const std::string input = repeat("\xF0\x9F\xA6\x99", kBig / 8);
  const auto ids = tok.encode(input, false, false);
  text::StreamingDecoder stream(tok, true);
  std::string joined;
  for (std::int32_t id : ids) {
    const std::string chunk = stream.push(id);
    ASSERT_TRUE(text::is_valid_utf8(chunk));
    ASSERT_LT(stream.pending_bytes(), 4u);
    joined += chunk;
  }
  joined += stream.finish();
  EXPECT_TRUE(joined == input);
}

}  // namespace
}  // namespace autarky::test

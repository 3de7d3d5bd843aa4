// Every tokenizer vector of shared/golden/vocab (made by llama.cpp) must come out exactly:
// NAME.gguf.inp against NAME.gguf.out, and extra.inp against extra.NAME.out, for the six
// vocabularies. A failure names the case, shows its text and the two id lists.

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "test_support.h"
#include "text/vocab_cases.h"

namespace autarky::test {
namespace {

struct GoldenSet {
  std::string vocab;
  bool extra;  // extra.inp (50 long texts) rather than the vocabulary's own 46 cases
};

std::string show_text(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 300)) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  if (s.size() > 300) out += fmt::format("... ({} bytes)", s.size());
  return out;
}

class TokenizerGolden : public ::testing::TestWithParam<GoldenSet> {};

TEST_P(TokenizerGolden, MatchesReferenceIds) {
  AUTARKY_REQUIRE_GOLDEN();
  const GoldenSet& g = GetParam();
  const auto dir = golden_dir() / "vocab";
  const auto inp = g.extra ? dir / "extra.inp" : dir / ("ggml-vocab-" + g.vocab + ".gguf.inp");
  const auto out = g.extra ? dir / ("extra." + g.vocab + ".out") : dir / ("ggml-vocab-" + g.vocab + ".gguf.out");
  const auto texts = read_vocab_cases(inp);
  const auto expected = read_vocab_ids(out);
  ASSERT_EQ(texts.size(), expected.size()) << inp << " vs " << out;
  ASSERT_GT(texts.size(), 40u);

  const text::Tokenizer& tok = golden_tokenizer(g.vocab);
  std::size_t failures = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto ids = tok.encode(texts[i], /*add_special=*/false, /*parse_special=*/false);
    if (ids != expected[i]) {
      ++failures;
      ADD_FAILURE() << g.vocab << (g.extra ? " extra" : "") << " case " << i << ": text \"" << show_text(texts[i])
                    << "\"\n  expected: " << fmt::format("{}", expected[i]) << "\n  got:      " << fmt::format("{}", ids);
    }
  }
  EXPECT_EQ(failures, 0u) << failures << " of " << texts.size() << " cases differ";
}

std::vector<GoldenSet> all_sets() {
  std::vector<GoldenSet> sets;
  for (const auto& name : golden_vocab_names()) {
    sets.push_back({name, false});
    sets.push_back({name, true});
  }
  return sets;
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, TokenizerGolden, ::testing::ValuesIn(all_sets()),
                         [](const ::testing::TestParamInfo<GoldenSet>& info) {
                           std::string name = info.param.vocab + (info.param.extra ? "_extra" : "_cases");
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

// The CLI's --cases output is the .out format itself, byte for byte.
TEST(TokenizeCli, CasesOutputEqualsGoldenOutFile) {
  AUTARKY_REQUIRE_GOLDEN();
  if (cli_path().empty()) GTEST_SKIP() << "CLI not built";
  const auto dir = golden_dir() / "vocab";
  for (const std::string name : {"llama-spm", "deepseek-coder"}) {
    const auto model = dir / ("ggml-vocab-" + name + ".gguf");
    const auto r = run_command(cli_path() + " tokenize -m '" + model.string() + "' --cases '" + model.string() + ".inp'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, slurp_file(model.string() + ".out")) << name;
  }
  const auto model = dir / "ggml-vocab-gpt-2.gguf";
  const auto r = run_command(cli_path() + " tokenize -m '" + model.string() + "' --cases '" + (dir / "extra.inp").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, slurp_file(dir / "extra.gpt-2.out"));
}

TEST(TokenizeCli, TextModePrintsIdsAndPieces) {
  AUTARKY_REQUIRE_GOLDEN();
  if (cli_path().empty()) GTEST_SKIP() << "CLI not built";
  const auto model = golden_dir() / "vocab" / "ggml-vocab-llama-spm.gguf";
  const auto r = run_command(cli_path() + " tokenize -m '" + model.string() + "' 'Hello world'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // BOS is added by default; the ids are those of the golden case "Hello world" (15043 3186).
  EXPECT_NE(r.out.find("1 '<s>'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("15043 ' Hello'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3186 ' world'"), std::string::npos) << r.out;

  const auto bad = run_command(cli_path() + " tokenize -m /nonexistent.gguf hi");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("error:"), std::string::npos);
}

}  // namespace
}  // namespace autarky::test

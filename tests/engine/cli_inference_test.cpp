// The inference subcommands end to end: `run` reproduces llama.cpp's greedy story and is
// reproducible under a seed, `perplexity` agrees with the method computed here from the
// session's logits, `chat` reuses the KV cache across turns, `logits` writes the golden format.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>

#include "engine/session.h"
#include "gguf/gguf_writer.h"
#include "model/model.h"
#include "text/tokenizer.h"
#include "test_support.h"

namespace autarky {
namespace {

std::string cli() { return test::cli_path(); }
std::string model() { return test::bundled_model().string(); }

TEST(CliRun, GreedyStoryMatchesReferenceText) {
  // The continuation llama.cpp produces, as quoted in shared/golden/README.md.
  // --label off: the reference is the bare text (labels are tested in tests/compliance).
  auto r = test::run_command(cli() + " run -m " + model() + " -p 'Once upon a time' -n 40 --temp 0 -t 1 --label off");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
                        "One day, she saw a big, red ball.",
                        0),
            0u)
      << r.out;
  EXPECT_NE(r.err.find("tok/s"), std::string::npos) << r.err;
}

TEST(CliRun, SameSeedSameTextAnyThreadCount) {
  const std::string args = " run -m " + model() + " -p 'Once upon a time' -n 48 --temp 1.0 --top-k 0 --top-p 1 --seed 11";
  auto a = test::run_command(cli() + args + " -t 1");
  auto b = test::run_command(cli() + args + " -t 2");
  auto c = test::run_command(cli() + " run -m " + model() + " -p 'Once upon a time' -n 48 --temp 1.0 --seed 12");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
}

TEST(CliRun, ContextTooSmallIsAnError) {
  auto r = test::run_command(cli() + " run -m " + model() + " -p 'Once upon a time' -c 3");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("error:"), std::string::npos) << r.err;
}

TEST(CliPerplexity, MatchesTheMethodComputedFromSessionLogits) {
  test::TempDir tmp;
  const std::string text_path = (tmp / "text.txt").string();
  std::string text;
  for (int i = 0; i < 12; ++i) text += "Lily and Tom went to the park. They saw a big dog and a small cat. ";
  std::ofstream(text_path) << text;
  const int n_ctx = 64;
  auto r = test::run_command(cli() + " perplexity -m " + model() + " -f " + text_path + " -c " + std::to_string(n_ctx));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+))"))) << r.out;
  const double cli_ppl = std::stod(m[1]);

  Model mdl = Model::load(model());
  auto tok = text::Tokenizer::from_gguf(mdl.file());
  auto ids = tok->encode(text, true, false);
  ThreadPool pool(1);
  Session s(mdl, pool, n_ctx);
  double nll = 0.0;
  int count = 0;
  for (std::size_t start = 0; start + n_ctx <= ids.size(); start += n_ctx) {
    std::vector<std::int32_t> chunk(ids.begin() + start, ids.begin() + start + n_ctx);
    chunk[0] = tok->bos();
    s.reset();
    auto logits = s.prefill_all(chunk);
    const std::size_t V = mdl.config().n_vocab;
    for (int pos = n_ctx / 2 + 1; pos < n_ctx; ++pos) {  // scored positions
      const float* row = logits.data() + (pos - 1) * V;
      double z = 0.0;
      for (std::size_t v = 0; v < V; ++v) z += std::exp(double(row[v]));
      nll += std::log(z) - row[chunk[pos]];
      ++count;
    }
  }
  ASSERT_GT(count, 0);
  EXPECT_NEAR(cli_ppl, std::exp(nll / count), 1e-3 * cli_ppl);
  EXPECT_GT(cli_ppl, 1.0);
}

TEST(CliChat, SecondTurnReusesTheCache) {
  test::TempDir tmp;
  const std::string path = test::bundled_chat_model(tmp);
  auto r = test::run_command("printf 'Hello there\\nWhat next\\n' | " + cli() + " chat -m " + path +
                             " -n 8 --temp 0 -c 256");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  std::string err = r.err;
  std::vector<int> reused;
  std::regex re(R"(\((\d+) reused\))");
  for (std::sregex_iterator it(err.begin(), err.end(), re), end; it != end; ++it) reused.push_back(std::stoi((*it)[1]));
  ASSERT_EQ(reused.size(), 2u) << err;
  EXPECT_EQ(reused[0], 0);
  EXPECT_GT(reused[1], 5) << err;  // the first turn's tokens stay in the cache
}

TEST(CliLogits, WritesGoldenFormatAndGreedyIds) {
  test::TempDir tmp;
  const std::string out = (tmp / "l.f32").string();
  auto r = test::run_command(cli() + " logits -m " + model() + " --tokens '1 403 407' --out " + out + " --greedy 4");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::read_f32(out).size(), 3u * 512u);
  std::istringstream ids(r.out);
  int n = 0, id = 0;
  while (ids >> id) {
    ++n;
    EXPECT_LT(id, 512);
  }
  EXPECT_EQ(n, 4);
  auto bad = test::run_command(cli() + " logits -m " + model() + " --tokens '1 99999' --out " + out);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("99999"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace autarky

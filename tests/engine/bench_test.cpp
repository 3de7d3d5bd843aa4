// `autarky bench`: the test plan and statistics of engine/bench, the JSON it prints on the
// bundled model (shape only: timings depend on the machine), and its argument errors.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

#include "base/error.h"
#include "engine/bench.h"
#include "model/model.h"
#include "test_support.h"

namespace autarky {
namespace {

std::string bench_cmd(const std::string& args) {
  return test::cli_path() + " bench -m " + test::bundled_model().string() + " " + args;
}

TEST(BenchPlan, NamesFollowLlamaBench) {
  EXPECT_EQ((bench::TestSpec{512, 0, 0}.name()), "pp512");
  EXPECT_EQ((bench::TestSpec{0, 128, 0}.name()), "tg128");
  EXPECT_EQ((bench::TestSpec{0, 128, 2048}.name()), "tg128@d2048");
}

TEST(BenchPlan, EveryDepthGetsEverySizeAndZeroSizesAreSkipped) {
  const auto tests = bench::plan_tests({128, 0, 512}, {0, 64}, {0, 100});
  std::vector<std::string> names;
  for (const auto& t : tests) names.push_back(t.name());
  EXPECT_EQ(names, (std::vector<std::string>{"pp128", "pp512", "tg64", "pp128@d100", "pp512@d100", "tg64@d100"}));
  EXPECT_EQ(bench::context_needed(tests), 100 + 512);
  EXPECT_TRUE(bench::plan_tests({0}, {0}, {0, 5}).empty());
}

TEST(BenchStats, MeanAndSampleStddev) {
  const auto one = bench::mean_stddev({4.0});
  EXPECT_EQ(one.mean, 4.0);
  EXPECT_EQ(one.stddev, 0.0);
  // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum to 32, sample variance 32 / 7.
  const auto s = bench::mean_stddev({2, 4, 4, 4, 5, 5, 7, 9});
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_NEAR(s.stddev, std::sqrt(32.0 / 7.0), 1e-12);
}

TEST(BenchModelInfo, TypeNamesArchitectureParamsAndFileType) {
  const Model m = Model::load(test::bundled_model().string());
  std::uint64_t n = 0;
  for (const auto& t : m.file().tensors()) n += t.n_elements;
  EXPECT_EQ(bench::model_n_params(m), n);
  const std::string type = bench::model_type(m);
  EXPECT_EQ(type.rfind("llama ", 0), 0u) << type;
  EXPECT_NE(type.find("F32"), std::string::npos) << type;  // the bundled model is all F32
}

TEST(BenchModelInfo, DecodeWeightBytesLeaveOutTheEmbeddingUnlessTheOutputSharesIt) {
  const Model m = Model::load(test::bundled_model().string());
  std::uint64_t all = 0, embedding = 0;
  bool has_output = false;
  for (const auto& t : m.file().tensors()) {
    all += t.n_bytes;
    if (t.name == "token_embd.weight") embedding = t.n_bytes;
    if (t.name == "output.weight") has_output = true;
  }
  ASSERT_GT(embedding, 0u);
  EXPECT_EQ(bench::decode_weight_bytes(m), has_output ? all - embedding : all);
}

TEST(BenchRunner, RunsEveryRepetitionAtDepth) {
  const Model m = Model::load(test::bundled_model().string());
  ThreadPool pool(2);
  const bench::TestSpec pp{6, 0, 10}, tg{0, 3, 10};
  bench::Runner runner(m, pool, bench::context_needed({pp, tg}), 7);
  runner.first_token();
  for (const auto& spec : {pp, tg}) {
    const bench::TestResult r = runner.run(spec, 3);
    ASSERT_EQ(r.seconds.size(), 3u);
    ASSERT_EQ(r.tokens_per_second.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(r.tokens_per_second[i] * r.seconds[i], spec.n_tokens(), 1e-6);
    EXPECT_EQ(r.n_threads, 2);
  }
  // A test that does not fit the session is an error, not an overflow.
  EXPECT_THROW(runner.run({0, 100, 10}, 1), Error);
}

TEST(BenchCli, JsonHasOneObjectPerTestWithTheRequiredFields) {
  auto r = test::run_command(bench_cmd("-p 8 -n 4 -d 0,6 -r 2 -t 1,2 --json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 8u);  // 2 thread counts x 2 depths x (pp, tg)
  std::multiset<std::string> names;
  for (const auto& t : j) {
    names.insert(t.at("test").get<std::string>() + "/t" + std::to_string(t.at("n_threads").get<int>()));
    EXPECT_GT(t.at("tokens_per_second").get<double>(), 0.0);
    EXPECT_GE(t.at("stddev").get<double>(), 0.0);
    EXPECT_EQ(t.at("samples_ts").size(), 2u);
    EXPECT_EQ(t.at("repetitions").get<int>(), 2);
    EXPECT_FALSE(t.at("isa").get<std::string>().empty());
    EXPECT_FALSE(t.at("commit").get<std::string>().empty());
    EXPECT_EQ(t.at("model_type").get<std::string>().rfind("llama", 0), 0u);
    EXPECT_GT(t.at("model_n_params").get<std::uint64_t>(), 0u);
    EXPECT_GT(t.at("decode_weight_bytes").get<std::uint64_t>(), 0u);
    EXPECT_GT(t.at("peak_rss_bytes").get<std::uint64_t>(), 0u);
    EXPECT_GT(t.at("load_seconds").get<double>(), 0.0);
    EXPECT_GT(t.at("kv_cache_bytes").get<std::uint64_t>(), 0u);
    EXPECT_TRUE(t.at("matmul_kernels").is_object());
  }
  EXPECT_EQ(names, (std::multiset<std::string>{"pp8/t1", "tg4/t1", "pp8@d6/t1", "tg4@d6/t1", "pp8/t2", "tg4/t2",
                                                "pp8@d6/t2", "tg4@d6/t2"}));
}

TEST(BenchCli, TableNamesMachineIsaModelAndCommit) {
  auto r = test::run_command(bench_cmd("-p 4 -n 2 -r 1 -t 1"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* part : {"commit ", "machine: ", "isa: ", "model: ", "| pp4 |", "| tg2 |"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part << "\n" << r.out;
  }
}

TEST(BenchCli, BadArgumentsAreErrors) {
  for (const char* args : {"-r 0", "-p -1", "-n -2", "-d -5", "-t 0", "-p 0 -n 0", "-p abc"}) {
    auto r = test::run_command(bench_cmd(args));
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_FALSE(r.err.empty()) << args;
  }
  auto missing = test::run_command(test::cli_path() + " bench -m /nonexistent/model.gguf -r 1");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent/model.gguf"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace autarky

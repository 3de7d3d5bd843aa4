// `autarky bench-batch`: runs the concurrency curve end to end and reports, in its JSON line, a
// point per stream count in which the scheduler really put all streams in one batch.

#include <nlohmann/json.hpp>

#include <sstream>

#include "test_support.h"

namespace autarky {
namespace {

TEST(BatchBenchCli, ReportsOnePointPerStreamCountWithFullBatches) {
  auto r = test::run_command(test::cli_path() + " bench-batch -m " + test::bundled_model().string() +
                             " --streams 1,3 -n 64 --prompt-tokens 4 -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string last_line, line;
  std::istringstream out(r.out);
  while (std::getline(out, line)) {
    if (!line.empty()) last_line = line;
  }
  auto j = nlohmann::json::parse(last_line);
  ASSERT_EQ(j["curve"].size(), 2u);
  EXPECT_EQ(j["curve"][0]["streams"], 1);
  EXPECT_EQ(j["curve"][1]["streams"], 3);
  EXPECT_EQ(j["curve"][1]["max_batch"], 3);
  EXPECT_EQ(j["curve"][1]["generated"], 3 * 64);
  EXPECT_GT(j["curve"][1]["end_to_end_tok_s"].get<double>(), 0.0);
}

}  // namespace
}  // namespace autarky

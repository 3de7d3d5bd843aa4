// Dequantization through the trait table matches gguf-py's reference dequantization of every
// tensor listed under dequant_refs in shared/golden/models/MANIFEST.json, within 1e-6.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include "gguf/gguf_file.h"
#include "tensor/convert.h"
#include "tensor/type_traits.h"
#include "test_support.h"

namespace autarky {
namespace {

constexpr double kMaxAbsDiff = 1e-6;

TEST(DequantGolden, EveryReferenceTensorMatches) {
  AUTARKY_REQUIRE_GOLDEN();
  const auto dir = test::golden_dir() / "models";
  const nlohmann::json manifest = nlohmann::json::parse(std::ifstream(dir / "MANIFEST.json"));
  std::map<std::string, double> max_diff_per_type;
  int compared = 0;
  for (const auto& [file, info] : manifest["models"].items()) {
    if (!info.contains("dequant_refs")) continue;
    GgufFile gguf = GgufFile::open((dir / file).string());
    for (const auto& [name, ref] : info["dequant_refs"].items()) {
      SCOPED_TRACE(file + " " + name);
      const GgufTensorInfo& t = gguf.tensor(name);
      ASSERT_EQ(std::string(dtype_name(t.type)), ref["type"].get<std::string>());
      ASSERT_TRUE(can_dequantize(t.type));
      const std::vector<float> expected = test::read_f32(dir / ref["dequant"].get<std::string>());
      ASSERT_EQ(expected.size(), t.n_elements);

      // Row by row through the table, as a kernel would see it.
      std::vector<float> by_rows(t.n_elements);
      const auto row_size = static_cast<std::size_t>(row_bytes(t.type, t.ne[0]));
      for (std::int64_t r = 0; r < t.n_rows(); ++r) {
        type_traits(t.type).to_float(t.data.data() + r * row_size, by_rows.data() + r * t.ne[0], t.ne[0]);
      }
      // And whole-tensor through the threaded helper: must agree exactly.
      std::vector<float> whole(t.n_elements);
      dequantize(t.type, t.data.data(), whole.data(), static_cast<std::int64_t>(t.n_elements), 2);
      EXPECT_EQ(whole, by_rows);

      double max_diff = 0;
      for (std::size_t i = 0; i < expected.size(); ++i) {
        max_diff = std::max(max_diff, static_cast<double>(std::fabs(by_rows[i] - expected[i])));
        ASSERT_FALSE(std::isnan(by_rows[i])) << "element " << i;
      }
      EXPECT_LE(max_diff, kMaxAbsDiff);
      auto& slot = max_diff_per_type[ref["type"].get<std::string>()];
      slot = std::max(slot, max_diff);
      ++compared;
    }
  }
  EXPECT_GE(compared, 50);
  for (const char* type : {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"}) {
    EXPECT_TRUE(max_diff_per_type.count(type)) << type << " has no golden reference";
  }
  for (const auto& [type, diff] : max_diff_per_type) std::printf("  dequant %-5s max |diff| = %.3g\n", type.c_str(), diff);
}

}  // namespace
}  // namespace autarky

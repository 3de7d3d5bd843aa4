// Our quantizer against llama.cpp's: quantize the F32 weights of tiny-llama to the type each
// golden quantized file holds for a tensor, and compare the RMSE (vs the F32 weights) of our
// result with the RMSE of the golden tensor. Ours must be no worse than kMaxRatio times theirs.

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <map>

#include "gguf/gguf_file.h"
#include "tensor/convert.h"
#include "tensor/type_traits.h"
#include "test_support.h"

namespace autarky {
namespace {

constexpr double kMaxRatio = 1.1;

double rmse(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
  return std::sqrt(sum / static_cast<double>(a.size()));
}

std::vector<float> dequantize_tensor(const GgufTensorInfo& t) {
  std::vector<float> out(t.n_elements);
  dequantize(t.type, t.data.data(), out.data(), static_cast<std::int64_t>(t.n_elements));
  return out;
}

std::vector<float> requantize(const std::vector<float>& weights, DType type, std::int64_t n_per_row) {
  const std::int64_t n_rows = static_cast<std::int64_t>(weights.size()) / n_per_row;
  std::vector<std::uint8_t> packed(static_cast<std::size_t>(n_rows) * row_bytes(type, n_per_row));
  quantize(type, weights.data(), packed.data(), n_rows, n_per_row);
  std::vector<float> out(weights.size());
  dequantize(type, packed.data(), out.data(), static_cast<std::int64_t>(out.size()));
  return out;
}

TEST(QuantVsGolden, RmseWithinTenPercentOfLlamaCpp) {
  AUTARKY_REQUIRE_GOLDEN();
  const auto dir = test::golden_dir() / "models";
  const GgufFile f32 = GgufFile::open((dir / "tiny-llama-f32.gguf").string());
  // The tensors compared in every file: one of each shape family.
  const std::vector<std::string> tensors = {"blk.1.ffn_gate.weight", "blk.0.ffn_down.weight", "blk.2.attn_q.weight",
                                            "blk.0.attn_v.weight", "output.weight"};
  std::map<std::string, double> worst_ratio;
  for (const char* file : {"q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k_m", "q4_k_m", "q5_k_m", "q6_k"}) {
    const GgufFile golden = GgufFile::open((dir / (std::string("tiny-llama-") + file + ".gguf")).string());
    for (const std::string& name : tensors) {
      SCOPED_TRACE(std::string(file) + " " + name);
      const GgufTensorInfo& ref = golden.tensor(name);
      if (!can_quantize(ref.type) || ref.type == DType::F32) continue;
      const GgufTensorInfo& original = f32.tensor(name);
      ASSERT_EQ(original.type, DType::F32);
      const std::vector<float> weights = dequantize_tensor(original);
      const double theirs = rmse(dequantize_tensor(ref), weights);
      const double ours = rmse(requantize(weights, ref.type, original.ne[0]), weights);
      const double ratio = ours / theirs;
      std::printf("  %-7s %-22s %-5s ours %.5f llama.cpp %.5f ratio %.3f\n", file, name.c_str(),
                  std::string(dtype_name(ref.type)).c_str(), ours, theirs, ratio);
      EXPECT_LE(ratio, kMaxRatio);
      auto& slot = worst_ratio[std::string(dtype_name(ref.type))];
      slot = std::max(slot, ratio);
    }
  }
  for (const char* type : {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"}) {
    EXPECT_TRUE(worst_ratio.count(type)) << type << " was never compared";
  }
  for (const auto& [type, ratio] : worst_ratio) std::printf("  worst ratio %-5s %.3f\n", type.c_str(), ratio);
}

}  // namespace
}  // namespace autarky

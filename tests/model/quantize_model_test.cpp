// The quantizer against llama.cpp's: for the golden F32 model, every mix must give each tensor
// the type llama.cpp's quantizer gave it, lay the file out the same way, carry the same
// metadata, and reproduce the weights about as well as llama.cpp's file does.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "base/error.h"
#include "gguf/gguf_file.h"
#include "model/quantize_model.h"
#include "tensor/convert.h"
#include "test_support.h"

namespace autarky {
namespace {

std::vector<float> to_floats(const GgufTensorInfo& t) {
  std::vector<float> v(t.n_elements);  // [n_rows][ne[0]]
  dequantize(t.type, t.data.data(), v.data(), static_cast<std::int64_t>(t.n_elements));
  return v;
}

// ||approx - exact|| / ||exact||
double relative_rms_error(const std::vector<float>& approx, const std::vector<float>& exact) {
  double err = 0, ref = 0;
  for (std::size_t i = 0; i < exact.size(); ++i) {
    err += (approx[i] - exact[i]) * double(approx[i] - exact[i]);
    ref += exact[i] * double(exact[i]);
  }
  return std::sqrt(err / ref);
}

struct GoldenQuant {
  const char* type;  // argument to quantize
  const char* file;  // what llama.cpp made from tiny-llama-f32.gguf with it
};
constexpr GoldenQuant kGoldenQuants[] = {
    {"F16", "tiny-llama-f16.gguf"},   {"BF16", "tiny-llama-bf16.gguf"},     {"Q8_0", "tiny-llama-q8_0.gguf"},
    {"Q4_0", "tiny-llama-q4_0.gguf"}, {"Q4_1", "tiny-llama-q4_1.gguf"},     {"Q5_0", "tiny-llama-q5_0.gguf"},
    {"Q5_1", "tiny-llama-q5_1.gguf"}, {"Q2_K", "tiny-llama-q2_k.gguf"},     {"Q3_K_M", "tiny-llama-q3_k_m.gguf"},
    {"Q4_K_M", "tiny-llama-q4_k_m.gguf"}, {"Q5_K_M", "tiny-llama-q5_k_m.gguf"}, {"Q6_K", "tiny-llama-q6_k.gguf"},
};

// The type planned for every tensor, for every mix llama.cpp made a golden file with (cheap:
// no quantization is done).
TEST(Quantize, PlansTheSameTypesAsLlamaCpp) {
  AUTARKY_REQUIRE_GOLDEN();
  const auto models = test::golden_dir() / "models";
  GgufFile src = GgufFile::open((models / "tiny-llama-f32.gguf").string());
  nlohmann::json manifest = nlohmann::json::parse(std::ifstream(models / "MANIFEST.json"));
  for (const GoldenQuant& q : kGoldenQuants) {
    SCOPED_TRACE(q.type);
    const QuantRecipe* recipe = find_quant_recipe(q.type);
    ASSERT_NE(recipe, nullptr);
    GgufFile golden = GgufFile::open((models / q.file).string());
    EXPECT_EQ(static_cast<std::int64_t>(recipe->file_type), golden.get_int("general.file_type"));
    const auto& manifest_types = manifest["models"][q.file]["tensor_types"];
    auto types = plan_tensor_types(src, *recipe);
    for (std::size_t i = 0; i < types.size(); ++i) {
      const std::string& name = src.tensors()[i].name;
      EXPECT_EQ(dtype_name(types[i]), manifest_types[name].get<std::string>()) << name;
    }
  }
}

// End to end for a few mixes (quantizing is the slow part): the same file as llama.cpp's
// except for the rounding choices inside quantized blocks.
class QuantizeLikeLlamaCpp : public ::testing::TestWithParam<GoldenQuant> {};

TEST_P(QuantizeLikeLlamaCpp, MatchesGoldenFile) {
  AUTARKY_REQUIRE_GOLDEN();
  const auto models = test::golden_dir() / "models";
  const GoldenQuant& q = GetParam();
  GgufFile src = GgufFile::open((models / "tiny-llama-f32.gguf").string());
  GgufFile golden = GgufFile::open((models / q.file).string());
  test::TempDir dir;
  auto out_path = (dir / "out.gguf").string();
  const QuantRecipe* recipe = find_quant_recipe(q.type);
  ASSERT_NE(recipe, nullptr);
  quantize_model(src, out_path, *recipe);
  GgufFile ours = GgufFile::open(out_path);

  // Same metadata, in the same order (file_type and quantization_version included).
  ASSERT_EQ(ours.metadata().size(), golden.metadata().size());
  for (std::size_t i = 0; i < golden.metadata().size(); ++i) {
    EXPECT_EQ(ours.metadata()[i].key, golden.metadata()[i].key);
    EXPECT_TRUE(ours.metadata()[i].value == golden.metadata()[i].value) << golden.metadata()[i].key;
  }
  // Same tensors, order, types, shapes and offsets: the same layout byte for byte.
  ASSERT_EQ(ours.tensors().size(), golden.tensors().size());
  EXPECT_EQ(ours.data_offset(), golden.data_offset());
  EXPECT_EQ(ours.file_size(), golden.file_size());
  for (std::size_t i = 0; i < golden.tensors().size(); ++i) {
    const auto& o = ours.tensors()[i];
    const auto& g = golden.tensors()[i];
    SCOPED_TRACE(g.name);
    EXPECT_EQ(o.name, g.name);
    EXPECT_EQ(dtype_name(o.type), dtype_name(g.type));
    EXPECT_EQ(o.ne, g.ne);
    EXPECT_EQ(o.offset, g.offset);
    // Weights: no worse than llama.cpp's own rounding of the same tensor, give or take.
    std::vector<float> exact = to_floats(src.tensor(g.name));
    double our_error = relative_rms_error(to_floats(o), exact);
    double golden_error = relative_rms_error(to_floats(g), exact);
    EXPECT_LE(our_error, 1.1 * golden_error + 1e-7) << "llama.cpp's error " << golden_error;
  }
  // F16 and BF16 rounding has a single right answer: those files must be identical.
  if (recipe->base == DType::F16 || recipe->base == DType::BF16) {
    EXPECT_TRUE(test::read_bytes(out_path) == test::read_bytes(models / q.file));
  }
}

constexpr GoldenQuant kEndToEnd[] = {
    {"F16", "tiny-llama-f16.gguf"}, {"Q8_0", "tiny-llama-q8_0.gguf"}, {"Q2_K", "tiny-llama-q2_k.gguf"},
    {"Q4_K_M", "tiny-llama-q4_k_m.gguf"}};
INSTANTIATE_TEST_SUITE_P(SomeGoldenMixes, QuantizeLikeLlamaCpp, ::testing::ValuesIn(kEndToEnd),
                         [](const auto& info) { return std::string(info.param.type); });

// llama-quantize takes plain K-type names as its _M mixes; the _S and _L mixes have no golden
// file, so check their documented shape: norms F32, output Q6_K, the base type elsewhere
// except for the few layers each recipe lifts.
TEST(Quantize, PlainKTypeNamesAndOtherKMixes) {
  AUTARKY_REQUIRE_GOLDEN();
  GgufFile src = GgufFile::open((test::golden_dir() / "models" / "tiny-llama-f32.gguf").string());
  for (const char* name : {"Q3_K", "Q4_K", "Q5_K"}) {
    EXPECT_EQ(find_quant_recipe(name), find_quant_recipe(std::string(name) + "_M")) << name;
  }
  auto count = [&](const char* recipe, DType type) {
    auto types = plan_tensor_types(src, *find_quant_recipe(recipe));
    return std::count(types.begin(), types.end(), type);
  };
  // 30 tensors: 7 norms, output, 22 weights.
  EXPECT_EQ(count("Q3_K_S", DType::Q3_K), 22);
  EXPECT_EQ(count("Q5_K_S", DType::Q5_K), 22);
  EXPECT_EQ(count("Q4_K_S", DType::Q5_K), 3);  // attention-V of the first four (here: all three) layers
  EXPECT_EQ(count("Q3_K_L", DType::Q5_K), 9);  // attention-V, attention-output and FFN-down everywhere
  for (const char* recipe : {"Q3_K_S", "Q3_K_L", "Q4_K_S", "Q5_K_S"}) {
    EXPECT_EQ(count(recipe, DType::F32), 7) << recipe;
    EXPECT_EQ(count(recipe, DType::Q6_K), 1) << recipe;
  }
}

// Every type and mix on the small bundled model (rows of 64: K-types take their fallbacks).
TEST(Quantize, EveryTypeOnBundledModel) {
  GgufFile src = GgufFile::open(test::bundled_model().string());
  test::TempDir dir;
  for (std::string_view name : quant_recipe_names()) {
    SCOPED_TRACE(name);
    const QuantRecipe* recipe = find_quant_recipe(name);
    if (recipe->name != name) continue;  // an alias of a recipe done already
    auto out = (dir / "out.gguf").string();
    quantize_model(src, out, *recipe);
    GgufFile q = GgufFile::open(out);
    EXPECT_EQ(q.get_int("general.file_type"), recipe->file_type);
    EXPECT_EQ(q.get_int("general.quantization_version"), 2);
    auto planned = plan_tensor_types(src, *recipe);
    ASSERT_EQ(q.tensors().size(), src.tensors().size());
    for (std::size_t i = 0; i < src.tensors().size(); ++i) {
      const auto& orig = src.tensors()[i];
      const auto& t = q.tensor(orig.name);
      EXPECT_EQ(t.type, planned[i]) << t.name;
      EXPECT_EQ(t.ne, orig.ne) << t.name;
      // Loose bound: 2-bit blocks on random-looking weights lose about a third.
      EXPECT_LT(relative_rms_error(to_floats(t), to_floats(orig)), 0.4) << t.name << " as " << dtype_name(t.type);
    }
  }
}

TEST(Quantize, RowsThatDoNotFitKBlocksFallBack) {
  const QuantRecipe* r = find_quant_recipe("Q4_K_M");
  ASSERT_NE(r, nullptr);
  std::vector<TensorPlanInput> tensors = {
      {"token_embd.weight", {96, 10}, DType::F32},       // 96 % 256 != 0 -> Q5_0
      {"output.weight", {96, 10}, DType::F32},           // output: Q8_0 when K-blocks do not fit
      {"blk.0.attn_v.weight", {96, 32}, DType::F32},     // Q6_K wanted -> Q8_0
      {"blk.0.ffn_down.weight", {48, 96}, DType::F32},   // Q6_K wanted, 48 % 32 != 0 -> F16
      {"blk.0.attn_norm.weight", {96}, DType::F32},      // stays F32
  };
  auto types = plan_tensor_types(*r, tensors, 1);
  EXPECT_EQ(types, (std::vector<DType>{DType::Q5_0, DType::Q8_0, DType::Q8_0, DType::F16, DType::F32}));
  EXPECT_EQ(fallback_type(DType::Q5_K, 64), DType::Q5_1);
  EXPECT_EQ(fallback_type(DType::Q3_K, 64), DType::Q4_0);
  EXPECT_EQ(fallback_type(DType::Q2_K, 64), DType::Q4_0);
}

TEST(Quantize, TiedEmbeddingIsTreatedAsOutput) {
  AUTARKY_REQUIRE_GOLDEN();
  // tiny-qwen2 has no output.weight: llama.cpp gave token_embd the output's Q6_K.
  auto models = test::golden_dir() / "models";
  GgufFile src = GgufFile::open((models / "tiny-qwen2-f32.gguf").string());
  GgufFile golden = GgufFile::open((models / "tiny-qwen2-q4_k_m.gguf").string());
  auto types = plan_tensor_types(src, *find_quant_recipe("Q4_K_M"));
  for (std::size_t i = 0; i < types.size(); ++i) {
    EXPECT_EQ(dtype_name(types[i]), dtype_name(golden.tensor(src.tensors()[i].name).type)) << src.tensors()[i].name;
  }
}

TEST(Quantize, RequantizesQuantizedInput) {
  GgufFile f32 = GgufFile::open(test::bundled_model().string());
  test::TempDir dir;
  auto q8_path = (dir / "q8.gguf").string();
  quantize_model(f32, q8_path, *find_quant_recipe("Q8_0"));
  GgufFile q8 = GgufFile::open(q8_path);
  auto out = (dir / "q4.gguf").string();
  quantize_model(q8, out, *find_quant_recipe("Q4_1"));
  GgufFile q = GgufFile::open(out);
  EXPECT_EQ(q.get_int("general.file_type"), 3);
  for (const auto& t : q.tensors()) {
    SCOPED_TRACE(t.name);
    // Rows of 64 fit no K-block, so the output projection takes Q6_K's fallback, Q8_0; rows of
    // 172 (FFN-down) fit no 32-block either and stay F16.
    DType expected = t.ne.size() == 1 ? DType::F32
                     : t.ne[0] % 32 != 0 ? DType::F16
                     : t.name == "output.weight" ? DType::Q8_0
                                                 : DType::Q4_1;
    EXPECT_EQ(dtype_name(t.type), dtype_name(expected));
    EXPECT_LT(relative_rms_error(to_floats(t), to_floats(f32.tensor(t.name))), 0.2);
  }
  // Same type in and out: bytes are copied, not requantized.
  auto same = (dir / "q8again.gguf").string();
  quantize_model(q8, same, *find_quant_recipe("Q8_0"));
  GgufFile s = GgufFile::open(same);
  for (const auto& t : s.tensors()) {
    const auto& orig = q8.tensor(t.name);
    EXPECT_TRUE(std::equal(t.data.begin(), t.data.end(), orig.data.begin(), orig.data.end())) << t.name;
  }
}

TEST(Quantize, UnknownTypeNameIsRejected) {
  EXPECT_EQ(find_quant_recipe("Q7_K"), nullptr);
  EXPECT_EQ(find_quant_recipe("q4_k_m")->file_type, 15u);
  EXPECT_EQ(find_quant_recipe("Q4_K")->name, "Q4_K_M");
}

TEST(QuantizeCli, WritesFileAndReportsBadType) {
  test::TempDir dir;
  auto out = dir / "s.gguf";
  auto r = test::run_command(fmt::format("{} quantize {} {} q8_0", test::cli_path(), test::bundled_model().string(),
                                         out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << "no progress bar when stderr is not a terminal";
  GgufFile f = GgufFile::open(out.string());
  EXPECT_EQ(f.get_int("general.file_type"), 7);
  auto bad = test::run_command(fmt::format("{} quantize {} {} Q9_9", test::cli_path(),
                                           test::bundled_model().string(), (dir / "x.gguf").string()));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("Q9_9"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.gguf"));
}

}  // namespace
}  // namespace autarky

// Every golden model parses, and its tensors match what MANIFEST.json says about them.

#include <nlohmann/json.hpp>

#include <fstream>

#include "gguf/gguf_file.h"
#include "test_support.h"

namespace autarky {
namespace {

TEST(GgufGolden, BundledModelParses) {
  GgufFile f = GgufFile::open(test::bundled_model().string());
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_GT(f.tensors().size(), 0u);
  const auto& emb = f.tensor("token_embd.weight");
  EXPECT_EQ(emb.dim(1), f.get_string_array("tokenizer.ggml.tokens").size());
}

TEST(GgufGolden, EveryModelMatchesManifest) {
  AUTARKY_REQUIRE_GOLDEN();
  auto dir = test::golden_dir() / "models";
  nlohmann::json manifest = nlohmann::json::parse(std::ifstream(dir / "MANIFEST.json"));
  int checked = 0;
  for (const auto& [file, info] : manifest["models"].items()) {
    SCOPED_TRACE(file);
    GgufFile f = GgufFile::open((dir / file).string());
    EXPECT_EQ(f.file_size(), info["bytes"].get<std::uint64_t>());
    if (info.contains("tensor_types")) {
      EXPECT_EQ(f.tensors().size(), info["tensor_types"].size());
      for (const auto& [name, type] : info["tensor_types"].items()) {
        const GgufTensorInfo* t = f.find_tensor(name);
        ASSERT_NE(t, nullptr) << name;
        EXPECT_EQ(dtype_name(t->type), type.get<std::string>()) << name;
      }
    }
    if (info.contains("dequant_refs")) {
      for (const auto& [name, ref] : info["dequant_refs"].items()) {
        const GgufTensorInfo& t = f.tensor(name);
        EXPECT_EQ(t.ne, ref["ne"].get<std::vector<std::int64_t>>()) << name;
      }
    }
    for (const auto& t : f.tensors()) {
      EXPECT_EQ(t.data.size(), t.n_bytes);
      EXPECT_EQ(t.offset % f.alignment(), 0u);
    }
    ++checked;
  }
  EXPECT_GE(checked, 19);
}

}  // namespace
}  // namespace autarky

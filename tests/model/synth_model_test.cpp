// `synth`: deterministic, the shapes and metadata llama.cpp's converters produce for the
// architecture (checked against the golden tiny models), and real models' parameter counts.

#include <gtest/gtest.h>

#include <cmath>

#include "base/error.h"
#include "gguf/gguf_file.h"
#include "model/synth_model.h"
#include "tensor/convert.h"
#include "test_support.h"

namespace autarky {
namespace {

std::string synth(const test::TempDir& dir, const std::string& file, const SynthPreset& preset, const char* type,
                  std::uint64_t seed, int n_threads = 0, const GgufFile* vocab = nullptr) {
  auto path = (dir / file).string();
  synthesize_model(preset, *find_quant_recipe(type), path, {seed, vocab, n_threads, {}});
  return path;
}

// The tiny shape cut down to one narrow layer: quantizing is what costs time in these tests.
SynthPreset smaller_tiny() {
  SynthPreset p = *find_synth_preset("tiny");
  p.n_layer = 1;
  p.n_ff = 256;
  return p;
}

TEST(Synth, SameSeedSameBytesWhateverTheThreads) {
  test::TempDir dir;
  const SynthPreset tiny = smaller_tiny();
  auto a = synth(dir, "a.gguf", tiny, "Q4_K_M", 7, 1);
  auto b = synth(dir, "b.gguf", tiny, "Q4_K_M", 7, 3);
  auto c = synth(dir, "c.gguf", tiny, "Q4_K_M", 8, 1);
  auto bytes_a = test::read_bytes(a);
  EXPECT_TRUE(bytes_a == test::read_bytes(b));
  auto bytes_c = test::read_bytes(c);
  ASSERT_EQ(bytes_a.size(), bytes_c.size());  // same layout...
  EXPECT_FALSE(bytes_a == bytes_c);           // ...different weights
  GgufFile fa = GgufFile::open(a), fc = GgufFile::open(c);
  for (const auto& t : fa.tensors()) {
    bool same = std::equal(t.data.begin(), t.data.end(), fc.tensor(t.name).data.begin());
    EXPECT_EQ(same, t.name.find("norm") != std::string::npos) << t.name;  // only norms are seed-free
  }
}

// Names, order, shapes and metadata keys/types/values must be what llama.cpp's converter wrote
// for the golden model of the same shape (only the name and the vocabulary's pieces differ).
void expect_like_golden(const GgufFile& ours, const GgufFile& golden) {
  ASSERT_EQ(ours.metadata().size(), golden.metadata().size());
  for (std::size_t i = 0; i < golden.metadata().size(); ++i) {
    const auto& o = ours.metadata()[i];
    const auto& g = golden.metadata()[i];
    EXPECT_EQ(o.key, g.key);
    EXPECT_EQ(o.value.type(), g.value.type()) << g.key;
    bool vocab_text = g.key == "general.name" || g.key == "tokenizer.ggml.tokens" || g.key == "tokenizer.ggml.scores" ||
                      g.key == "tokenizer.ggml.token_type";
    if (!vocab_text) {
      EXPECT_TRUE(o.value == g.value) << g.key << ": " << o.value.to_display() << " vs " << g.value.to_display();
    }
  }
  EXPECT_EQ(ours.get_string_array("tokenizer.ggml.tokens").size(), golden.get_string_array("tokenizer.ggml.tokens").size());
  ASSERT_EQ(ours.tensors().size(), golden.tensors().size());
  for (std::size_t i = 0; i < golden.tensors().size(); ++i) {
    EXPECT_EQ(ours.tensors()[i].name, golden.tensors()[i].name);
    EXPECT_EQ(ours.tensors()[i].ne, golden.tensors()[i].ne) << golden.tensors()[i].name;
    EXPECT_EQ(ours.tensors()[i].type, golden.tensors()[i].type) << golden.tensors()[i].name;
  }
}

TEST(Synth, TinyLooksLikeGoldenTinyLlama) {
  AUTARKY_REQUIRE_GOLDEN();
  test::TempDir dir;
  GgufFile ours = GgufFile::open(synth(dir, "t.gguf", *find_synth_preset("tiny"), "F32", 1));
  GgufFile golden = GgufFile::open((test::golden_dir() / "models" / "tiny-llama-f32.gguf").string());
  expect_like_golden(ours, golden);
  // Weights look like weights: mean ~0, std ~0.02; norms are ones.
  const auto& q = ours.tensor("blk.1.attn_q.weight");
  std::vector<float> w(q.n_elements);
  dequantize(q.type, q.data.data(), w.data(), static_cast<std::int64_t>(w.size()));
  double sum = 0, sq = 0;
  for (float x : w) sum += x, sq += double(x) * x;
  double mean = sum / w.size(), std = std::sqrt(sq / w.size() - mean * mean);
  EXPECT_NEAR(mean, 0.0, 2e-4);
  EXPECT_NEAR(std, 0.02, 2e-4);
  const auto& norm = ours.tensor("blk.2.ffn_norm.weight");
  for (std::size_t i = 0; i < norm.n_elements; ++i) ASSERT_EQ(reinterpret_cast<const float*>(norm.data.data())[i], 1.0f);
}

TEST(Synth, Qwen2ShapesLookLikeGoldenTinyQwen2) {
  AUTARKY_REQUIRE_GOLDEN();
  // The tiny shape with Qwen2's traits, as the golden tiny-qwen2 was made.
  SynthPreset p = *find_synth_preset("tiny");
  p.arch = SynthArch::kQwen2;
  p.tied_embeddings = true;
  p.rope_freq_base = 1e6f;
  p.rms_eps = 1e-6f;
  test::TempDir dir;
  GgufFile ours = GgufFile::open(synth(dir, "q.gguf", p, "F32", 1));
  GgufFile golden = GgufFile::open((test::golden_dir() / "models" / "tiny-qwen2-f32.gguf").string());
  expect_like_golden(ours, golden);
}

TEST(Synth, MixFollowsTheQuantizerPlan) {
  AUTARKY_REQUIRE_GOLDEN();
  test::TempDir dir;
  GgufFile ours = GgufFile::open(synth(dir, "m.gguf", *find_synth_preset("tiny"), "Q3_K_M", 1));
  GgufFile golden = GgufFile::open((test::golden_dir() / "models" / "tiny-llama-q3_k_m.gguf").string());
  EXPECT_EQ(ours.get_int("general.file_type"), golden.get_int("general.file_type"));
  EXPECT_EQ(ours.get_int("general.quantization_version"), 2);
  for (const auto& t : ours.tensors()) EXPECT_EQ(dtype_name(t.type), dtype_name(golden.tensor(t.name).type)) << t.name;
}

TEST(Synth, VocabularyIsCopiedAndSetsVocabSize) {
  test::TempDir dir;
  GgufWriter v;
  v.set("general.architecture", std::string("llama"));  // not a tokenizer key: must not be copied
  v.set("tokenizer.ggml.model", std::string("gpt2"));
  v.set("tokenizer.ggml.tokens", GgufArray{GgufType::STRING, {std::string("a"), std::string("b"), std::string("ab")}});
  v.set("tokenizer.ggml.merges", GgufArray{GgufType::STRING, {std::string("a b")}});
  v.set("tokenizer.ggml.bos_token_id", std::uint32_t{0});
  v.set("tokenizer.chat_template", std::string("{{ messages }}"));
  auto vocab_path = (dir / "vocab.gguf").string();
  v.write(vocab_path);
  GgufFile vocab = GgufFile::open(vocab_path);
  GgufFile f = GgufFile::open(synth(dir, "v.gguf", smaller_tiny(), "Q8_0", 3, 0, &vocab));
  for (const auto& kv : vocab.metadata()) {
    if (!kv.key.starts_with("tokenizer.")) continue;
    ASSERT_NE(f.find(kv.key), nullptr) << kv.key;
    EXPECT_TRUE(*f.find(kv.key) == kv.value) << kv.key;
  }
  EXPECT_EQ(f.tensor("token_embd.weight").ne, (std::vector<std::int64_t>{256, 3}));
  EXPECT_EQ(f.tensor("output.weight").ne, (std::vector<std::int64_t>{256, 3}));
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_string("general.name"), "synthetic-tiny-llama");
}

// Parameter counts published for the real models (Hugging Face model cards / safetensors
// metadata): the tensor lists must add up to exactly these.
TEST(SynthPresets, ParameterCountsOfRealModels) {
  struct Known {
    const char* preset;
    std::int64_t params;
  };
  for (Known k : {Known{"qwen2.5-0.5b", 494032768}, Known{"qwen2.5-1.5b", 1543714304},
                  Known{"llama-3.2-1b", 1235814400}, Known{"llama-2-7b", 6738415616}}) {
    SCOPED_TRACE(k.preset);
    const SynthPreset* p = find_synth_preset(k.preset);
    ASSERT_NE(p, nullptr);
    std::int64_t n = 0;
    for (const auto& t : synth_tensor_list(*p, p->n_vocab)) {
      std::int64_t e = 1;
      for (auto d : t.ne) e *= d;
      n += e;
    }
    EXPECT_EQ(n, k.params);
  }
}

TEST(SynthCli, WritesTinyAndRejectsUnknownPreset) {
  test::TempDir dir;
  auto out = dir / "cli.gguf";
  auto r = test::run_command(fmt::format("{} synth --preset tiny --type F16 --seed 5 --out {}", test::cli_path(),
                                         out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(GgufFile::open(out.string()).tensors().size(), 30u);
  auto bad = test::run_command(fmt::format("{} synth --preset llama-9b --out {}", test::cli_path(),
                                           (dir / "x.gguf").string()));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("llama-9b"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace autarky

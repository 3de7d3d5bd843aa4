// Loading validates hyper-parameters and tensor shapes with errors that name the key or tensor;
// sessions refuse to run past their context; threading and batching do not change results.

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>

#include "base/error.h"
#include "engine/session.h"
#include "gguf/gguf_writer.h"
#include "kernels/matmul.h"
#include "model/model.h"
#include "test_support.h"

namespace autarky {
namespace {

// Writes a copy of the bundled model with its metadata and tensor list edited, and returns the
// error message of loading it ("" if it loads).
std::string load_error_of_edited_model(const std::function<void(GgufWriter&)>& edit_metadata,
                                       const std::string& drop_tensor = "") {
  GgufFile src = GgufFile::open(test::bundled_model().string());
  GgufWriter w;
  w.copy_metadata_from(src);
  edit_metadata(w);
  for (const auto& t : src.tensors()) {
    if (t.name != drop_tensor) w.add_tensor(t.name, t.type, t.ne, t.data);
  }
  test::TempDir tmp;
  const std::string path = (tmp / "edited.gguf").string();
  w.write(path);
  try {
    Model::load(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ModelLoad, BundledModelConfigComesFromMetadata) {
  Model m = Model::load(test::bundled_model().string());
  const ModelConfig& c = m.config();
  EXPECT_EQ(c.arch, Arch::kLlama);
  EXPECT_EQ(c.n_embd, 64);
  EXPECT_EQ(c.n_layer, 5);
  EXPECT_EQ(c.n_head, 8);
  EXPECT_EQ(c.n_head_kv, 4);
  EXPECT_EQ(c.head_dim_k, 8);
  EXPECT_EQ(c.n_ff, 172);
  EXPECT_EQ(c.n_vocab, 512);
  EXPECT_EQ(c.n_rot, 8);
  EXPECT_FLOAT_EQ(c.rope_freq_base, 10000.0f);  // absent key: the documented default
}

// Norm weights are copied out of the file map (so reading them does not keep the file's pages
// around them mapped), with the file's values.
TEST(ModelLoad, VectorsAreCopiedOutOfTheMapWithTheirValues) {
  Model m = Model::load(test::bundled_model().string());
  const std::span<const std::uint8_t> map = m.file().mapped_bytes();
  auto check = [&](const TensorSet& set, TensorRole role, const std::string& name) {
    SCOPED_TRACE(name);
    const GgufTensorInfo* t = m.file().find_tensor(name);
    ASSERT_NE(t, nullptr);
    const auto* copy = reinterpret_cast<const std::uint8_t*>(set.vector(role));
    ASSERT_NE(copy, nullptr);
    EXPECT_TRUE(copy + t->data.size() <= map.data() || copy >= map.data() + map.size());
    EXPECT_EQ(std::memcmp(copy, t->data.data(), t->data.size()), 0);
  };
  check(m.globals(), TensorRole::kOutputNorm, "output_norm.weight");
  for (std::int64_t il = 0; il < m.config().n_layer; ++il) {
    check(m.layer(il), TensorRole::kAttnNorm, "blk." + std::to_string(il) + ".attn_norm.weight");
    check(m.layer(il), TensorRole::kFfnNorm, "blk." + std::to_string(il) + ".ffn_norm.weight");
  }
}

TEST(ModelLoad, UneditedCopyLoads) { EXPECT_EQ(load_error_of_edited_model([](GgufWriter&) {}), ""); }

TEST(ModelLoad, MissingKeyIsNamed) {
  std::string err = load_error_of_edited_model([](GgufWriter& w) { w.remove("llama.embedding_length"); });
  EXPECT_NE(err.find("llama.embedding_length"), std::string::npos) << err;
}

TEST(ModelLoad, InconsistentHeadCountsAreNamed) {
  std::string err = load_error_of_edited_model([](GgufWriter& w) { w.set("llama.attention.head_count_kv", std::uint32_t{3}); });
  EXPECT_NE(err.find("llama.attention.head_count_kv"), std::string::npos) << err;
}

TEST(ModelLoad, ShapeMismatchNamesTensorAndShapes) {
  std::string err = load_error_of_edited_model([](GgufWriter& w) { w.set("llama.feed_forward_length", std::uint32_t{100}); });
  EXPECT_NE(err.find("blk.0.ffn_gate.weight"), std::string::npos) << err;
  EXPECT_NE(err.find("[64, 172]"), std::string::npos) << err;
  EXPECT_NE(err.find("[64, 100]"), std::string::npos) << err;
}

TEST(ModelLoad, MissingTensorIsNamed) {
  std::string err = load_error_of_edited_model([](GgufWriter&) {}, "blk.2.ffn_up.weight");
  EXPECT_NE(err.find("blk.2.ffn_up.weight"), std::string::npos) << err;
}

TEST(ModelLoad, UnsupportedArchitectureIsNamed) {
  std::string err = load_error_of_edited_model([](GgufWriter& w) { w.set("general.architecture", std::string("mamba")); });
  EXPECT_NE(err.find("mamba"), std::string::npos) << err;
}

TEST(Session, ContextOverflowIsAnError) {
  Model m = Model::load(test::bundled_model().string());
  ThreadPool pool(1);
  Session s(m, pool, 8);
  std::vector<std::int32_t> six = {1, 403, 407, 261, 378, 13};
  s.prefill(six);
  EXPECT_THROW(s.prefill(std::vector<std::int32_t>{5, 6, 7}), Error);
  EXPECT_EQ(s.n_past(), 6);  // a refused batch leaves the session as it was
  s.decode(5);
  s.decode(6);
  EXPECT_THROW(s.decode(7), Error);
  EXPECT_THROW(Session(m, pool, m.config().n_ctx_train + 1), Error);
}

TEST(Session, InvalidTokenIsAnError) {
  Model m = Model::load(test::bundled_model().string());
  ThreadPool pool(1);
  Session s(m, pool, 16);
  EXPECT_THROW(s.decode(512), Error);
  EXPECT_THROW(s.decode(-1), Error);
  EXPECT_EQ(s.n_past(), 0);
}

// Weights repacked at load for their kernel (the default) give the logits of the weights used
// from the file map (AUTARKY_REPACK=0), bit for bit, in prompts and in decode.
TEST(ModelLoad, RepackedWeightsDoNotChangeLogits) {
  AUTARKY_REQUIRE_GOLDEN();
  for (const char* name : {"tiny-llama-q4_0.gguf", "tiny-llama-q8_0.gguf", "tiny-llama-q5_1.gguf", "tiny-llama-q2_k.gguf",
                           "tiny-llama-q3_k_m.gguf", "tiny-llama-q4_k_m.gguf", "tiny-llama-q5_k_m.gguf",
                           "tiny-llama-q6_k.gguf", "tiny-qwen3-q4_k_m.gguf"}) {
    const std::string path = (test::golden_dir() / "models" / name).string();
    if (!std::filesystem::exists(path)) continue;
    SCOPED_TRACE(name);
    ::setenv("AUTARKY_REPACK", "0", 1);
    const Model plain = Model::load(path);
    ::unsetenv("AUTARKY_REPACK");
    const Model packed = Model::load(path);
    packed.wait_until_repacked();
    const WeightMatrix& down = packed.layer(0).matrix(TensorRole::kFfnDown);
    EXPECT_FALSE(plain.layer(0).matrix(TensorRole::kFfnDown).repacked);
    if (select_matmul_kernel(down.type).pack != nullptr) {
      EXPECT_TRUE(down.repacked);
    }
    EXPECT_FALSE(packed.globals().matrix(TensorRole::kTokenEmbd).repacked);  // read by rows

    std::vector<std::int32_t> tokens;
    for (int i = 0; i < 24; ++i) tokens.push_back(1 + (i * 53) % 200);
    ThreadPool pool(2);
    Session a(plain, pool, 32), b(packed, pool, 32);
    auto prompt_a = a.prefill_all(std::span(tokens).first(20));
    std::vector<float> ref(prompt_a.begin(), prompt_a.end());
    auto prompt_b = b.prefill_all(std::span(tokens).first(20));
    EXPECT_TRUE(std::equal(ref.begin(), ref.end(), prompt_b.begin(), prompt_b.end()));
    for (std::size_t i = 20; i < tokens.size(); ++i) {
      auto row_a = a.decode(tokens[i]);
      std::vector<float> want(row_a.begin(), row_a.end());
      auto row_b = b.decode(tokens[i]);
      ASSERT_TRUE(std::equal(want.begin(), want.end(), row_b.begin(), row_b.end())) << "position " << i;
    }
  }
}

// Repacking runs in the background after load(): a sequence computed while weights switch from
// the file's rows to their repacked copies, one by one at any moment, gets the logits of the file's
// rows; and a model moved, move-assigned or destroyed while repacking stops it cleanly (the
// sanitizer build checks the memory side).
TEST(ModelLoad, BackgroundRepackingDoesNotChangeLogitsWheneverItEnds) {
  AUTARKY_REQUIRE_GOLDEN();
  const std::string path = (test::golden_dir() / "models" / "tiny-llama-q4_k_m.gguf").string();
  ::setenv("AUTARKY_REPACK", "0", 1);
  const Model plain = Model::load(path);
  ::unsetenv("AUTARKY_REPACK");
  std::vector<std::int32_t> tokens;
  for (int i = 0; i < 12; ++i) tokens.push_back(3 + (i * 29) % 200);
  ThreadPool pool(2);
  Session a(plain, pool, 16);
  std::vector<std::vector<float>> want;
  for (std::int32_t t : tokens) {
    auto row = a.decode(t);
    want.emplace_back(row.begin(), row.end());
  }
  for (int round = 0; round < 3; ++round) {
    Model packed = Model::load(path);  // no wait: decode starts while it repacks
    Session b(packed, pool, 16);
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      auto row = b.decode(tokens[i]);
      ASSERT_TRUE(std::equal(want[i].begin(), want[i].end(), row.begin(), row.end())) << "round " << round << " token " << i;
    }
  }
  for (int round = 0; round < 3; ++round) {
    Model first = Model::load(path);
    Model moved(std::move(first));       // the repacking thread keeps writing into moved's tensors
    moved = Model::load(path);           // stops moved's repacking, takes the new one's
    moved.wait_until_repacked();
    EXPECT_TRUE(moved.layer(0).matrix(TensorRole::kFfnDown).repacked);
    Model dropped = Model::load(path);  // destroyed at once, mid-repacking
  }
}

// Row-parallel matmuls and per-head attention do not change any summation order, so results
// are bit-identical for any thread count, and for any split of a sequence into batches.
TEST(Session, ThreadCountAndBatchingDoNotChangeLogits) {
  Model m = Model::load(test::bundled_model().string());
  std::vector<std::int32_t> tokens;
  for (int i = 0; i < 40; ++i) tokens.push_back(1 + (i * 37) % 500);
  ThreadPool one(1), three(3);
  Session a(m, one, 64), b(m, three, 64), c(m, three, 64);
  auto all_a = a.prefill_all(tokens);
  std::vector<float> ref(all_a.begin(), all_a.end());
  auto all_b = b.prefill_all(tokens);
  EXPECT_TRUE(std::equal(ref.begin(), ref.end(), all_b.begin(), all_b.end()));

  const std::int64_t n_vocab = m.config().n_vocab;
  c.prefill(std::span(tokens).first(17));
  for (std::size_t i = 17; i < tokens.size(); ++i) {
    auto row = c.decode(tokens[i]);
    ASSERT_TRUE(std::equal(row.begin(), row.end(), ref.begin() + static_cast<std::ptrdiff_t>(i * n_vocab)))
        << "position " << i;
  }
  // Rewinding and re-evaluating reuses the cache rows: same logits again.
  c.truncate(20);
  auto again = c.decode(tokens[20]);
  EXPECT_TRUE(std::equal(again.begin(), again.end(), ref.begin() + 20 * n_vocab));
}

}  // namespace
}  // namespace autarky

namespace autarky {
namespace {

std::vector<float> logits_of_edited_model(const std::function<void(GgufWriter&)>& edit) {
  GgufFile src = GgufFile::open(test::bundled_model().string());
  GgufWriter w;
  w.copy_metadata_from(src);
  edit(w);
  for (const auto& t : src.tensors()) w.add_tensor(t.name, t.type, t.ne, t.data);
  test::TempDir tmp;
  const std::string path = (tmp / "edited.gguf").string();
  w.write(path);
  Model m = Model::load(path);
  ThreadPool pool(1);
  Session s(m, pool, 32);
  std::vector<std::int32_t> tokens = {1, 403, 407, 261, 378, 13, 60, 70, 80, 90, 100, 110};
  auto l = s.prefill_all(tokens);
  return {l.begin(), l.end()};
}

// Llama-3 frequency factors divide every pair's angle; linear scaling divides positions. Factors
// of 2 everywhere and a linear factor of 2 are the same rotation, and differ from no scaling.
TEST(ModelLoad, RopeFrequencyFactorsAndLinearScalingAgree) {
  static const std::vector<float> twos(4, 2.0f);  // [n_rot / 2] for n_rot = 8
  auto with_factors = logits_of_edited_model([](GgufWriter& w) {
    w.add_tensor("rope_freqs.weight", DType::F32, {4},
                 std::span(reinterpret_cast<const std::uint8_t*>(twos.data()), twos.size() * sizeof(float)));
  });
  auto with_linear = logits_of_edited_model([](GgufWriter& w) {
    w.set("llama.rope.scaling.type", std::string("linear"));
    w.set("llama.rope.scaling.factor", 2.0f);
  });
  auto plain = logits_of_edited_model([](GgufWriter&) {});
  EXPECT_EQ(with_factors, with_linear);
  EXPECT_NE(with_factors, plain);
}

}  // namespace
}  // namespace autarky

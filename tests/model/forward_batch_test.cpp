// forward_batch(): several sequences, each with its own KV cache and positions, evaluated in one
// pass give the logits each gets from forward() alone, step after step (so the keys and values
// each chunk wrote to its own cache are right too), for every architecture family and for the
// matmul kernels of quantized weights. Chunks mix prompt pieces (all rows, or no logits at all)
// and single decode tokens, as the scheduler's steps do.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "model/forward.h"
#include "model/model.h"
#include "test_support.h"

namespace autarky {
namespace {

// One sequence: the chunks it evaluates, one per step (an empty chunk sits the step out).
struct Plan {
  std::vector<std::vector<std::int32_t>> chunks;
  std::vector<LogitsFor> logits;  // per chunk
};

std::int64_t rows_of(LogitsFor which, std::size_t n) {
  return which == LogitsFor::kAllTokens ? static_cast<std::int64_t>(n) : which == LogitsFor::kLastToken ? 1 : 0;
}

KvCache make_cache(const ModelConfig& c, std::int64_t n_ctx) {
  return KvCache({c.n_layer, n_ctx, c.n_head_kv * c.head_dim_k, c.n_head_kv * c.head_dim_v, c.n_head_kv});
}

// [sequence][step] logits rows, each sequence alone through forward().
std::vector<std::vector<std::vector<float>>> run_alone(const Model& model, ThreadPool& pool, const std::vector<Plan>& plans,
                                                       std::int64_t n_ctx) {
  const std::int64_t n_vocab = model.config().n_vocab;
  std::vector<std::vector<std::vector<float>>> out;
  for (const Plan& p : plans) {
    KvCache cache = make_cache(model.config(), n_ctx);
    ForwardScratch scratch;
    ForwardContext ctx{pool, scratch};
    std::int64_t pos = 0;
    auto& steps = out.emplace_back();
    for (std::size_t k = 0; k < p.chunks.size(); ++k) {
      const auto& chunk = p.chunks[k];
      auto& logits = steps.emplace_back(static_cast<std::size_t>(rows_of(p.logits[k], chunk.size()) * n_vocab));
      if (chunk.empty()) continue;
      if (p.logits[k] == LogitsFor::kNone) {
        std::vector<float> unused(static_cast<std::size_t>(n_vocab));
        forward(model, ctx, cache, chunk, pos, LogitsFor::kLastToken, unused.data());
      } else {
        forward(model, ctx, cache, chunk, pos, p.logits[k], logits.data());
      }
      pos += static_cast<std::int64_t>(chunk.size());
    }
  }
  return out;
}

// The same, all sequences of a step in one forward_batch() call.
std::vector<std::vector<std::vector<float>>> run_batched(const Model& model, ThreadPool& pool,
                                                         const std::vector<Plan>& plans, std::int64_t n_ctx) {
  const std::int64_t n_vocab = model.config().n_vocab;
  std::vector<KvCache> caches;
  for (std::size_t i = 0; i < plans.size(); ++i) caches.push_back(make_cache(model.config(), n_ctx));
  std::vector<std::int64_t> pos(plans.size(), 0);
  std::vector<std::vector<std::vector<float>>> out(plans.size());
  ForwardScratch scratch;
  ForwardContext ctx{pool, scratch};
  std::size_t n_steps = 0;
  for (const Plan& p : plans) n_steps = std::max(n_steps, p.chunks.size());
  for (std::size_t k = 0; k < n_steps; ++k) {
    std::vector<SequenceChunk> batch;
    std::vector<std::size_t> who;
    std::int64_t rows = 0;
    for (std::size_t i = 0; i < plans.size(); ++i) {
      if (k >= plans[i].chunks.size()) continue;
      const auto& chunk = plans[i].chunks[k];
      out[i].emplace_back(static_cast<std::size_t>(rows_of(plans[i].logits[k], chunk.size()) * n_vocab));
      if (chunk.empty()) continue;
      batch.push_back({&caches[i], chunk, pos[i], plans[i].logits[k]});
      who.push_back(i);
      rows += rows_of(plans[i].logits[k], chunk.size());
      pos[i] += static_cast<std::int64_t>(chunk.size());
    }
    if (batch.empty()) continue;
    std::vector<float> logits(static_cast<std::size_t>(std::max<std::int64_t>(rows, 1) * n_vocab));
    forward_batch(model, ctx, batch, logits.data());
    std::size_t offset = 0;
    for (std::size_t j = 0; j < batch.size(); ++j) {
      auto& dst = out[who[j]].back();
      std::copy_n(logits.begin() + static_cast<std::ptrdiff_t>(offset), dst.size(), dst.begin());
      offset += dst.size();
    }
  }
  return out;
}

// Three sequences whose steps mix prompt chunks and decode tokens of different lengths, with
// sequences starting late and ending early.
std::vector<Plan> mixed_plans(const std::vector<std::int32_t>& t) {
  auto piece = [&](std::size_t from, std::size_t n) { return std::vector<std::int32_t>(t.begin() + from, t.begin() + from + n); };
  using L = LogitsFor;
  return {
      {{piece(0, 7), piece(7, 1), piece(8, 1), piece(9, 1), piece(10, 1)}, {L::kAllTokens, L::kLastToken, L::kLastToken, L::kLastToken, L::kLastToken}},
      {{{}, piece(20, 5), piece(25, 6), piece(31, 1), piece(32, 1)}, {L::kNone, L::kNone, L::kAllTokens, L::kLastToken, L::kAllTokens}},
      {{piece(40, 3), piece(43, 1), piece(44, 4)}, {L::kLastToken, L::kAllTokens, L::kLastToken}},
  };
}

void expect_same_logits(const Model& model, ThreadPool& pool, const std::vector<std::int32_t>& tokens, const std::string& name) {
  const std::vector<Plan> plans = mixed_plans(tokens);
  auto alone = run_alone(model, pool, plans, 32);
  auto batched = run_batched(model, pool, plans, 32);
  double worst = 0.0;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    ASSERT_EQ(alone[i].size(), batched[i].size());
    for (std::size_t k = 0; k < alone[i].size(); ++k) {
      const auto& a = alone[i][k];
      const auto& b = batched[i][k];
      ASSERT_EQ(a.size(), b.size());
      float scale = 0.0f;
      for (float v : a) scale = std::max(scale, std::fabs(v));
      for (std::size_t j = 0; j < a.size(); ++j) {
        worst = std::max(worst, static_cast<double>(std::fabs(a[j] - b[j]) / std::max(scale, 1e-6f)));
      }
    }
  }
  EXPECT_LE(worst, 1e-5) << name << ": batched logits differ from single-sequence ones";
  fmt::print("[ BATCH    ] {:<26} max relative logit difference batched vs alone: {:.3g}\n", name, worst);
}

// A prompt longer than the feed-forward slice (kFfnSliceTokens) in one call gives, row for row,
// the logits of the same prompt fed in short chunks that each fit one slice.
void expect_sliced_ffn_rows_unchanged(const Model& model, ThreadPool& pool, const std::string& name) {
  const std::int64_t n = kFfnSliceTokens + 45, piece = 64;
  std::vector<std::int32_t> tokens(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<std::int32_t>((i * 53 + 7) % model.config().n_vocab);
  Plan whole{{tokens}, {LogitsFor::kAllTokens}};
  Plan pieces;
  for (std::int64_t t = 0; t < n; t += piece) {
    pieces.chunks.emplace_back(tokens.begin() + t, tokens.begin() + std::min(n, t + piece));
    pieces.logits.push_back(LogitsFor::kAllTokens);
  }
  const auto out = run_alone(model, pool, {whole, pieces}, n);
  std::vector<float> joined;
  for (const auto& rows : out[1]) joined.insert(joined.end(), rows.begin(), rows.end());
  const std::vector<float>& one_call = out[0][0];
  ASSERT_EQ(one_call.size(), joined.size());
  double worst = 0.0;
  const std::int64_t n_vocab = model.config().n_vocab;
  for (std::int64_t t = 0; t < n; ++t) {
    float scale = 1e-6f;
    for (std::int64_t j = 0; j < n_vocab; ++j) scale = std::max(scale, std::fabs(one_call[t * n_vocab + j]));
    for (std::int64_t j = 0; j < n_vocab; ++j) {
      const auto i = static_cast<std::size_t>(t * n_vocab + j);
      worst = std::max(worst, static_cast<double>(std::fabs(one_call[i] - joined[i]) / scale));
    }
  }
  EXPECT_LE(worst, 1e-5) << name << ": rows of a " << n << "-token call differ from those of " << piece << "-token calls";
}

TEST(ForwardBatch, LongPromptMatchesShortChunks) {
  Model model = Model::load(test::bundled_model().string());
  ThreadPool pool(2);
  expect_sliced_ffn_rows_unchanged(model, pool, "stories260K");
  if (test::golden_dir().empty()) return;  // the quantized model is golden data
  Model q8 = Model::load((test::golden_dir() / "models" / "tiny-llama-q8_0.gguf").string());
  expect_sliced_ffn_rows_unchanged(q8, pool, "tiny-llama-q8_0");
}

TEST(ForwardBatch, BundledModelMatchesSingleSequences) {
  Model model = Model::load(test::bundled_model().string());
  ThreadPool pool(2);
  std::vector<std::int32_t> tokens(48);
  for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<std::int32_t>((i * 37 + 11) % model.config().n_vocab);
  expect_same_logits(model, pool, tokens, "stories260K");
}

TEST(ForwardBatch, GoldenModelsMatchSingleSequences) {
  AUTARKY_REQUIRE_GOLDEN();
  const auto dir = test::golden_dir() / "models";
  auto manifest = nlohmann::json::parse(std::ifstream(dir / "MANIFEST.json"));
  const auto tokens = manifest["sequences"]["seqA"].get<std::vector<std::int32_t>>();
  ThreadPool pool(2);
  // One per family, and quantized weights whose kernels quantize the activations per row.
  for (const char* name : {"tiny-llama-f32.gguf", "tiny-llama-q4_k_m.gguf", "tiny-llama-q8_0.gguf",
                           "tiny-qwen2-q4_k_m.gguf", "tiny-qwen3-f32.gguf"}) {
    SCOPED_TRACE(name);
    Model model = Model::load((dir / name).string());
    expect_same_logits(model, pool, tokens, name);
  }
}

}  // namespace
}  // namespace autarky

// Tokenizer throughput, one thread: the 50 mixed texts of shared/golden/vocab/extra.inp (prose,
// code, JSON, CJK, Cyrillic, Arabic, emoji, numbers, whitespace runs; 21 KB) repeated to 4 MiB,
// encoded text by text. Workload names: encode/<vocab> and decode/<vocab>; bytes_per_second is
// input text bytes (encode) or output text bytes (decode). Needs the golden directory:
// $AUTARKY_GOLDEN_DIR, else /work/shared/golden.
//
// Measured figures, and the public tokenizers run on the same workload: bench/RESULTS-tokenizer.md.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "gguf/gguf_file.h"
#include "text/tokenizer.h"

namespace autarky {
namespace {

namespace fs = std::filesystem;

fs::path vocab_dir() {
  const char* env = std::getenv("AUTARKY_GOLDEN_DIR");
  return fs::path(env ? env : "/work/shared/golden") / "vocab";
}

// The texts of extra.inp, repeated until they add up to 4 MiB.
const std::vector<std::string>& workload() {
  static const std::vector<std::string> texts = [] {
    std::ifstream in(vocab_dir() / "extra.inp", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string all = ss.str();
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> one_copy;
    for (std::size_t start = 0, at; (at = all.find(sep, start)) != std::string::npos; start = at + sep.size()) {
      one_copy.push_back(all.substr(start, at - start));
    }
    std::vector<std::string> out;
    std::size_t total = 0;
    while (!one_copy.empty() && total < (4u << 20)) {
      for (const auto& t : one_copy) {
        out.push_back(t);
        total += t.size();
      }
    }
    return out;
  }();
  return texts;
}

struct LoadedVocab {
  GgufFile file;
  std::unique_ptr<text::Tokenizer> tok;
};

const text::Tokenizer* tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<LoadedVocab>> cache;
  auto& slot = cache[name];
  if (!slot) {
    const fs::path path = vocab_dir() / ("ggml-vocab-" + name + ".gguf");
    if (!fs::exists(path)) return nullptr;
    GgufFile f = GgufFile::open(path.string());
    auto tok = text::Tokenizer::from_gguf(f);
    slot = std::make_unique<LoadedVocab>(LoadedVocab{std::move(f), std::move(tok)});
  }
  return slot->tok.get();
}

void BM_Encode(benchmark::State& state, const std::string& name) {
  const text::Tokenizer* tok = tokenizer(name);
  if (!tok || workload().empty()) {
    state.SkipWithError("golden vocab files not found (set AUTARKY_GOLDEN_DIR)");
    return;
  }
  std::size_t bytes = 0, tokens = 0;
  for (auto _ : state) {
    for (const auto& t : workload()) {
      auto ids = tok->encode(t, false, false);
      tokens += ids.size();
      bytes += t.size();
      benchmark::DoNotOptimize(ids.data());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

void BM_Decode(benchmark::State& state, const std::string& name) {
  const text::Tokenizer* tok = tokenizer(name);
  if (!tok || workload().empty()) {
    state.SkipWithError("golden vocab files not found (set AUTARKY_GOLDEN_DIR)");
    return;
  }
  std::vector<std::vector<std::int32_t>> encoded;
  for (const auto& t : workload()) encoded.push_back(tok->encode(t, false, false));
  std::size_t bytes = 0;
  for (auto _ : state) {
    for (const auto& ids : encoded) {
      const std::string s = tok->decode(ids);
      bytes += s.size();
      benchmark::DoNotOptimize(s.data());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

void register_all() {
  for (const char* name : {"llama-spm", "gpt-2", "falcon", "deepseek-llm", "deepseek-coder", "phi-3"}) {
    benchmark::RegisterBenchmark((std::string("encode/") + name).c_str(), BM_Encode, std::string(name))
        ->Unit(benchmark::kMillisecond);
  }
  for (const char* name : {"llama-spm", "gpt-2"}) {
    benchmark::RegisterBenchmark((std::string("decode/") + name).c_str(), BM_Decode, std::string(name))
        ->Unit(benchmark::kMillisecond);
  }
}

const int kRegistered = (register_all(), 0);

}  // namespace
}  // namespace autarky

#pragma once
// Reading llama.cpp's tokenizer test vectors (shared/golden/vocab): texts separated by the line
// "__ggml_vocab_test__" (each text is followed by "\n__ggml_vocab_test__\n"), and one line of
// space-prefixed ids per text in the .out files. Header-only: the test binary is built from
// *_test.cpp files alone.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "gguf/gguf_file.h"
#include "test_support.h"
#include "text/tokenizer.h"

namespace autarky::test {
inline std::string slurp_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::string> read_vocab_cases(const std::filesystem::path& inp) {
  const std::string all = slurp_file(inp);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> cases;
  std::size_t start = 0;
  for (std::size_t at; (at = all.find(sep, start)) != std::string::npos; start = at + sep.size()) {
    cases.push_back(all.substr(start, at - start));
  }
  if (start != all.size()) throw std::runtime_error(inp.string() + ": text after the last separator");
  return cases;
}

inline std::vector<std::vector<std::int32_t>> read_vocab_ids(const std::filesystem::path& out) {
  std::istringstream in(slurp_file(out));
  std::vector<std::vector<std::int32_t>> lines;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::vector<std::int32_t> ids;
    for (std::int32_t id; ls >> id;) ids.push_back(id);
    lines.push_back(std::move(ids));
  }
  return lines;
}

inline const std::vector<std::string>& golden_vocab_names() {
  static const std::vector<std::string> names = {"llama-spm", "phi-3", "gpt-2", "falcon", "deepseek-llm", "deepseek-coder"};
  return names;
}

inline const text::Tokenizer& golden_tokenizer(const std::string& name) {
  // Loading a 100k-token vocabulary takes a moment; tests share one instance per vocabulary.
  struct Loaded {
    GgufFile file;
    std::unique_ptr<text::Tokenizer> tok;
  };
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Loaded>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[name];
  if (!slot) {
    GgufFile f = GgufFile::open((golden_dir() / "vocab" / ("ggml-vocab-" + name + ".gguf")).string());
    auto tok = text::Tokenizer::from_gguf(f);
    slot = std::make_unique<Loaded>(Loaded{std::move(f), std::move(tok)});
  }
  return *slot->tok;
}

}  // namespace autarky::test

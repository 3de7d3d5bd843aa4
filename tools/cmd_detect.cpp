// `autarky detect -m MODEL --key KEYFILE [FILE|-] [--json]`: is this text watermarked with this
// key? Prints z-score, p-value and a verdict. Needs only the key and the model's tokenizer (the
// weights are never loaded). `--ids` reads token ids instead of text, and then needs no model.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "base/error.h"
#include "command.h"
#include "compliance/watermark.h"
#include "gguf/gguf_file.h"
#include "text/tokenizer.h"

namespace autarky::cli {
namespace {

std::string read_input(const std::string& path) {
  if (path.empty() || path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Token ids separated by whitespace or commas (the format `autarky tokenize` prints).
std::vector<std::int32_t> parse_ids(const std::string& text, const std::string& what) {
  std::vector<std::int32_t> ids;
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == ',' || c == '[' || c == ']') {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == i || j - i > 10) fail("{}: expected a token id at offset {}, found '{}'", what, i, c);
    long long v = std::stoll(text.substr(i, j - i));
    if (v > INT32_MAX) fail("{}: token id {} out of range", what, v);
    ids.push_back(static_cast<std::int32_t>(v));
    i = j;
  }
  return ids;
}

// Only the GGUF header, metadata and tensor directory are read (the file is memory-mapped and
// the weights are never touched): the detector needs the vocabulary, not the model.
std::vector<std::int32_t> tokenize_with_model(const std::string& model_path, const std::string& text) {
  const GgufFile file = GgufFile::open(model_path);
  const auto tokenizer = text::Tokenizer::from_gguf(file);
  // No BOS, and control-token spellings in the text are ordinary characters: the text is data.
  return tokenizer->encode(text, /*add_special=*/false, /*parse_special=*/false);
}

const RegisterCommand kDetect{
    "detect", "Test text for the autarky watermark of a key (z-score, p-value, verdict)", [](CLI::App& app) {
      struct Options {
        std::string model, key, input = "-";
        bool json = false, ids = false;
        compliance::WatermarkParams params;
      };
      auto o = std::make_shared<Options>();
      app.add_option("input", o->input, "Text file, or - for stdin")->capture_default_str();
      app.add_option("-m,--model", o->model, "Model whose tokenizer made the text (weights are not loaded)");
      app.add_option("--key", o->key, "Provider key file (autarky keygen)")->required();
      app.add_flag("--ids", o->ids, "Input holds token ids, not text");
      app.add_flag("--json", o->json, "Print {\"z\":..,\"p_value\":..,\"watermarked\":..}");
      app.add_option("--gamma", o->params.gamma, "Green-list share used at generation")->capture_default_str();
      app.add_option("--z-threshold", o->params.z_threshold, "z at or above which text is called watermarked")
          ->capture_default_str();
      return [o] {
        auto key = compliance::SecretKey::load(o->key);
        std::string text = read_input(o->input);
        std::vector<std::int32_t> tokens;
        if (o->ids) {
          tokens = parse_ids(text, o->input);
        } else {
          if (o->model.empty()) fail("detect: -m MODEL is needed to tokenize text (or pass --ids)");
          tokens = tokenize_with_model(o->model, text);
        }
        auto r = compliance::detect(tokens, key, o->params);
        if (o->json) {
          nlohmann::json j = {{"z", r.z},
                              {"p_value", r.p_value},
                              {"watermarked", r.watermarked},
                              {"n_tokens", tokens.size()},
                              {"n_scored", r.n_scored},
                              {"n_green", r.n_green}};
          fmt::print("{}\n", j.dump());
        } else {
          fmt::print("tokens {}, scored {} (distinct pairs), green {}\nz = {:.3f}, p-value = {:.3g}\n{}\n",
                     tokens.size(), r.n_scored, r.n_green, r.z, r.p_value,
                     r.watermarked ? "verdict: WATERMARKED with this key"
                                   : "verdict: no evidence of this key's watermark");
        }
        return 0;
      };
    }};

}  // namespace
}  // namespace autarky::cli

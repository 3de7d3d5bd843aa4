// `autarky tokenize -m MODEL "text"`: token ids and pieces of a text.
// `autarky tokenize -m MODEL --cases FILE.inp`: one line of ids per test text, in the format of
// llama.cpp's tokenizer vectors (texts separated by "\n__ggml_vocab_test__\n"; each id printed
// with a leading space; no BOS/EOS; special tokens not parsed), for diffing against the .out file.

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "command.h"
#include "gguf/gguf_file.h"
#include "text/tokenizer.h"

namespace autarky::cli {
namespace {

constexpr std::string_view kCaseSeparator = "\n__ggml_vocab_test__\n";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every text ends with the separator line, so the piece after the last separator is empty.
std::vector<std::string_view> split_cases(std::string_view all) {
  std::vector<std::string_view> cases;
  std::size_t start = 0;
  while (true) {
    const std::size_t sep = all.find(kCaseSeparator, start);
    if (sep == std::string_view::npos) break;
    cases.push_back(all.substr(start, sep - start));
    start = sep + kCaseSeparator.size();
  }
  if (start < all.size()) cases.push_back(all.substr(start));
  return cases;
}

// Piece as a readable quoted string: bytes that are not printable UTF-8 are shown as \xNN.
std::string printable(std::string_view piece) {
  std::string out;
  for (unsigned char c : piece) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\'' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

struct TokenizeOptions {
  std::string model;
  std::string text;
  std::string cases;
  std::string file;
  bool no_special = false;
  bool parse_special = false;
  bool ids_only = false;
};

int run(const TokenizeOptions& o) {
  const GgufFile file = GgufFile::open(o.model);
  const auto tok = text::Tokenizer::from_gguf(file);
  std::string out;
  if (!o.cases.empty()) {
    const std::string all = read_file(o.cases);
    for (std::string_view text : split_cases(all)) {
      for (std::int32_t id : tok->encode(text, /*add_special=*/false, /*parse_special=*/false)) {
        out += fmt::format(" {}", id);
      }
      out += '\n';
    }
  } else {
    if (o.text.empty() == o.file.empty()) fail("tokenize: give either a text argument, --file or --cases");
    const std::string text = o.file.empty() ? o.text : read_file(o.file);
    const auto ids = tok->encode(text, !o.no_special, o.parse_special);
    if (o.ids_only) {
      for (std::size_t i = 0; i < ids.size(); ++i) out += fmt::format("{}{}", i ? " " : "", ids[i]);
      out += '\n';
    } else {
      for (std::int32_t id : ids) {
        out += fmt::format("{:>8} '{}'\n", id, printable(tok->token_to_piece(id, /*render_special=*/true)));
      }
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

const RegisterCommand kTokenize{
    "tokenize", "Token ids of a text (or of llama.cpp-format test cases)", [](CLI::App& app) {
      auto o = std::make_shared<TokenizeOptions>();
      app.add_option("-m,--model", o->model, "GGUF file (a model or a vocabulary-only file)")->required();
      app.add_option("text", o->text, "Text to tokenize");
      app.add_option("-f,--file", o->file, "Read the text from a file");
      app.add_option("--cases", o->cases, "File of test texts separated by __ggml_vocab_test__ lines");
      app.add_flag("--no-special", o->no_special, "Do not add BOS/EOS");
      app.add_flag("--parse-special", o->parse_special, "Turn control tokens written in the text into their ids");
      app.add_flag("--ids", o->ids_only, "Print only the ids, on one line");
      return [o] { return run(*o); };
    }};

}  // namespace
}  // namespace autarky::cli

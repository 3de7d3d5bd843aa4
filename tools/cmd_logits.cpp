// `autarky logits -m MODEL --tokens "1 403 407" --out FILE.f32 [--mode prefill|decode] [--greedy N]`:
// the logits after every token, in the golden file format ([n_tokens][n_vocab] little-endian
// float32), and optionally the greedy continuation after the sequence.

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>

#include "base/error.h"
#include "command.h"
#include "engine/session.h"
#include "model/model.h"
#include "platform/atomic_file.h"

namespace autarky::cli {
namespace {

struct LogitsOptions {
  std::string model;
  std::string tokens;
  std::string out;
  std::string mode = "prefill";
  int greedy = 0;
  int threads = 0;
};

std::vector<std::int32_t> parse_tokens(const std::string& text) {
  std::vector<std::int32_t> ids;
  std::istringstream in(text);
  std::string word;
  while (in >> word) {
    std::size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || v < 0 || v > INT32_MAX) fail("--tokens: \"{}\" is not a token id", word);
    ids.push_back(static_cast<std::int32_t>(v));
  }
  if (ids.empty()) fail("--tokens: no token ids given");
  return ids;
}

std::int32_t argmax(std::span<const float> logits) {
  return static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

int run_logits(const LogitsOptions& o) {
  if (o.mode != "prefill" && o.mode != "decode") fail("--mode: \"{}\" is neither prefill nor decode", o.mode);
  if (o.greedy < 0) fail("--greedy: {} must not be negative", o.greedy);
  const std::vector<std::int32_t> tokens = parse_tokens(o.tokens);
  Model model = Model::load(o.model);
  ThreadPool pool(o.threads);
  const std::int64_t n_ctx = std::min<std::int64_t>(model.config().n_ctx_train,
                                                    static_cast<std::int64_t>(tokens.size()) + o.greedy);
  Session session(model, pool, n_ctx);
  const std::int64_t n_vocab = model.config().n_vocab;

  std::vector<float> all(tokens.size() * static_cast<std::size_t>(n_vocab));  // [n_tokens][n_vocab]
  if (o.mode == "prefill") {
    std::span<const float> l = session.prefill_all(tokens);
    std::copy(l.begin(), l.end(), all.begin());
  } else {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      std::span<const float> l = session.decode(tokens[i]);
      std::copy(l.begin(), l.end(), all.begin() + static_cast<std::ptrdiff_t>(i * n_vocab));
    }
  }
  if (!o.out.empty()) {
    AtomicFileWriter out(o.out);
    out.write({reinterpret_cast<const std::uint8_t*>(all.data()), all.size() * sizeof(float)});
    out.commit();
  }

  if (o.greedy > 0) {
    std::vector<std::int32_t> continuation;
    std::int32_t next = argmax({all.data() + (tokens.size() - 1) * n_vocab, static_cast<std::size_t>(n_vocab)});
    for (int i = 0; i < o.greedy; ++i) {
      continuation.push_back(next);
      if (i + 1 < o.greedy) next = argmax(session.decode(next));
    }
    fmt::print("{}\n", fmt::join(continuation, " "));
  }
  return 0;
}

const RegisterCommand kLogits{
    "logits", "Write the logits of every position of a token sequence (golden format)", [](CLI::App& app) {
      auto o = std::make_shared<LogitsOptions>();
      app.add_option("-m,--model", o->model, "GGUF model")->required();
      app.add_option("--tokens", o->tokens, "Token ids separated by spaces")->required();
      app.add_option("--out", o->out, "Output file: [n_tokens][n_vocab] float32");
      app.add_option("--mode", o->mode, "prefill (one batch) or decode (one token at a time)");
      app.add_option("--greedy", o->greedy, "Print the greedy continuation of N tokens");
      app.add_option("-t,--threads", o->threads, "Threads (default: physical cores)");
      return [o] { return run_logits(*o); };
    }};

}  // namespace
}  // namespace autarky::cli

// `autarky perplexity -m MODEL -f FILE [-c CTX]`: perplexity by llama.cpp's method, so numbers
// compare directly with llama-perplexity: tokenize the whole file once (adding BOS if the
// vocabulary does), cut it into floor(n / CTX) chunks, put BOS first in each chunk, evaluate
// each from position 0 and score its second half (positions CTX/2+1 .. CTX-1) from the logits
// one position earlier.

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>

#include "base/error.h"
#include "command.h"
#include "engine/session.h"
#include "inference_flags.h"
#include "model/model.h"
#include "text/tokenizer.h"

namespace autarky::cli {
namespace {

struct PerplexityOptions {
  ModelFlags model;
  std::string file;
};

// -log softmax(logits)[target], in double.
double negative_log_likelihood(std::span<const float> logits, std::int32_t target) {
  double max_v = logits[0];
  for (float v : logits) max_v = std::max(max_v, static_cast<double>(v));
  double sum = 0.0;
  for (float v : logits) sum += std::exp(v - max_v);
  return std::log(sum) - (logits[static_cast<std::size_t>(target)] - max_v);
}

int run_perplexity(PerplexityOptions& o) {
  std::ifstream in(o.file, std::ios::binary);
  if (!in) fail("{}: cannot open", o.file);
  std::stringstream ss;
  ss << in.rdbuf();

  Model model = Model::load(o.model.model);
  auto tokenizer = text::Tokenizer::from_gguf(model.file());
  const std::int64_t n_ctx = o.model.n_ctx > 0 ? o.model.n_ctx : std::min<std::int64_t>(512, model.config().n_ctx_train);
  if (n_ctx < 4) fail("-c {} is too small for perplexity", n_ctx);
  ThreadPool pool(o.model.threads);
  Session session(model, pool, n_ctx);

  const std::vector<std::int32_t> tokens = tokenizer->encode(ss.str(), /*add_special=*/true, /*parse_special=*/false);
  const std::int64_t n_chunks = static_cast<std::int64_t>(tokens.size()) / n_ctx;
  if (n_chunks == 0) fail("{}: {} tokens, fewer than one chunk of {} (-c)", o.file, tokens.size(), n_ctx);
  std::fprintf(stderr, "perplexity: %zu tokens, %lld chunks of %lld, threads %d\n", tokens.size(),
               static_cast<long long>(n_chunks), static_cast<long long>(n_ctx), pool.size());

  const std::int64_t n_vocab = model.config().n_vocab;
  const std::int64_t first = n_ctx / 2;  // logits row predicting the first scored token
  double sum_nll = 0.0, sum_nll2 = 0.0;
  std::int64_t count = 0;
  std::vector<std::int32_t> chunk(static_cast<std::size_t>(n_ctx));
  for (std::int64_t c = 0; c < n_chunks; ++c) {
    std::copy_n(tokens.begin() + c * n_ctx, n_ctx, chunk.begin());
    if (tokenizer->add_bos() && tokenizer->bos() >= 0) chunk[0] = tokenizer->bos();
    session.reset();
    std::span<const float> logits = session.prefill_all(chunk);  // [n_ctx][n_vocab]
    for (std::int64_t i = first; i < n_ctx - 1; ++i) {
      const double nll = negative_log_likelihood(logits.subspan(static_cast<std::size_t>(i * n_vocab), n_vocab),
                                                 chunk[static_cast<std::size_t>(i + 1)]);
      sum_nll += nll;
      sum_nll2 += nll * nll;
      ++count;
    }
    fmt::print("[{}]{:.4f},", c + 1, std::exp(sum_nll / count));
    std::fflush(stdout);
  }
  const double mean = sum_nll / count;
  const double variance = std::max(0.0, sum_nll2 / count - mean * mean);
  const double ppl = std::exp(mean);
  // Standard error of the mean NLL, carried to PPL to first order (d exp(x) = exp(x) dx).
  const double ppl_error = count > 1 ? ppl * std::sqrt(variance / static_cast<double>(count - 1)) : 0.0;
  fmt::print("\nFinal estimate: PPL = {:.4f} +/- {:.5f}\n", ppl, ppl_error);
  return 0;
}

const RegisterCommand kPerplexity{"perplexity", "Perplexity of a text file (llama.cpp's method)", [](CLI::App& app) {
                                    auto o = std::make_shared<PerplexityOptions>();
                                    add_model_flags(app, o->model);
                                    app.add_option("-f,--file", o->file, "Text file")->required();
                                    return [o] { return run_perplexity(*o); };
                                  }};

}  // namespace
}  // namespace autarky::cli

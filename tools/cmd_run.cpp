// `autarky run -m MODEL -p PROMPT [-n N] [sampling flags] [compliance flags]`: streams the
// prompt, then the continuation as it is generated, to stdout, with the explicit label before
// (or after) them; timings and memory on stderr. With -o FILE the labelled continuation (not the
// prompt, which is not generated) also goes to FILE and its implicit label to FILE.aigc.json.

#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "base/error.h"
#include "command.h"
#include "compliance_flags.h"
#include "engine/generate.h"
#include "inference_flags.h"
#include "model/model.h"
#include "text/streaming_decoder.h"
#include "text/tokenizer.h"

namespace autarky::cli {
namespace {

struct RunOptions {
  ModelFlags model;
  SamplingFlags sampling;
  ComplianceFlags compliance;
  std::string prompt;
  std::int64_t n_predict = -1;
};

void write_out(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

int run(RunOptions& o) {
  Model model = Model::load(o.model.model);
  auto tokenizer = text::Tokenizer::from_gguf(model.file());
  ThreadPool pool(o.model.threads);
  Session session(model, pool, context_size(o.model, model.config().n_ctx_train));
  const std::uint64_t seed = resolve_seed(o.sampling);
  Sampler sampler(o.sampling.params, model.config().n_vocab);
  Compliance compliance = make_compliance(o.compliance);
  if (compliance.watermark) sampler.add_processor(compliance.watermark);

  const std::vector<std::int32_t> prompt = tokenizer->encode(o.prompt, /*add_special=*/true, /*parse_special=*/true);
  if (prompt.empty()) fail("the prompt is empty");
  if (static_cast<std::int64_t>(prompt.size()) >= session.n_ctx()) {
    fail("the prompt has {} tokens, which leaves no room in a context of {} (-c)", prompt.size(), session.n_ctx());
  }

  GenerateOptions g;
  g.max_tokens = o.n_predict;
  g.stop_strings = o.sampling.stop;
  if (!o.sampling.ignore_eos) {
    g.end_tokens.assign(tokenizer->vocab().eog_ids.begin(), tokenizer->vocab().eog_ids.end());
    if (tokenizer->eos() >= 0) g.end_tokens.push_back(tokenizer->eos());
  }
  compliance::LabelledResponse label = compliance.labeler.start();
  std::string content;  // the labelled continuation, kept only for -o
  auto emit = [&](std::string_view text) {
    write_out(text);
    if (!o.compliance.output.empty()) content += text;
  };
  emit(label.begin());
  write_out(o.prompt);
  auto sink = [&](std::string_view text) {
    label.feed(text);
    emit(text);
  };
  text::StreamingDecoder decoder(*tokenizer, /*strip_leading_space=*/false);
  GenerateResult r = generate(
      session, sampler, prompt, g, [&](std::int32_t id) { return decoder.push(id); }, sink);
  if (r.reason != StopReason::kStopString) sink(decoder.finish());
  emit(label.finish());
  write_out("\n");
  if (!o.compliance.output.empty()) write_labelled_output(o.compliance.output, content, label);
  label.audit("cli", prompt.size(), r.tokens.size());

  const auto generated = static_cast<double>(r.tokens.size());
  std::fprintf(stderr,
               "\n%s: %zu prompt tokens in %.3f s (%.1f tok/s), %zu generated in %.3f s (%.1f tok/s); stop: %s\n"
               "%s: threads %d, context %lld, seed %llu, KV cache %.2f MiB, resident %.2f MiB (model file %.2f MiB)\n",
               "run", prompt.size(), r.prompt_seconds, prompt.size() / std::max(r.prompt_seconds, 1e-9), r.tokens.size(),
               r.generate_seconds, generated / std::max(r.generate_seconds, 1e-9), stop_reason_name(r.reason), "run",
               pool.size(), static_cast<long long>(session.n_ctx()), static_cast<unsigned long long>(seed),
               session.kv_cache_bytes() / 1048576.0, resident_bytes() / 1048576.0, model.file().file_size() / 1048576.0);
  std::fprintf(stderr, "run: ProduceID %s, watermark %s%s%s\n", label.produce_id().c_str(),
               compliance.watermark ? "on" : "off", o.compliance.output.empty() ? "" : ", label in ",
               o.compliance.output.empty() ? "" : compliance::sidecar_path(o.compliance.output).c_str());
  return 0;
}

const RegisterCommand kRun{"run", "Generate text from a prompt, streaming it to stdout", [](CLI::App& app) {
                             auto o = std::make_shared<RunOptions>();
                             add_model_flags(app, o->model);
                             add_sampling_flags(app, o->sampling);
                             add_compliance_flags(app, o->compliance, /*with_output=*/true);
                             app.add_option("-p,--prompt", o->prompt, "Prompt text")->required();
                             app.add_option("-n,--n-predict", o->n_predict, "Tokens to generate; -1 = until the context is full or EOS")
                                 ->capture_default_str();
                             return [o] { return run(*o); };
                           }};

}  // namespace
}  // namespace autarky::cli

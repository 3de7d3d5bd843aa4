// `autarky chat -m MODEL`: an interactive conversation. Each turn renders the whole conversation
// with the model's chat template, tokenizes it, and evaluates only what the KV cache does not
// already hold (the longest common prefix with the session's history is kept), so earlier turns
// are not re-read. Every reply carries the explicit label (compliance flags as for `run`), is
// watermarked with --watermark-key, and gets an audit record with --audit-log; the label is not
// part of the conversation the model sees. With -o FILE the labelled replies (not the user's
// turns, which are not generated) are written to FILE after every reply, blank-line separated,
// with the implicit label of the whole file in FILE.aigc.json, as `run -o` does.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

#include "base/error.h"
#include "command.h"
#include "compliance_flags.h"
#include "engine/generate.h"
#include "inference_flags.h"
#include "model/model.h"
#include "text/chat_template.h"
#include "text/streaming_decoder.h"
#include "text/tokenizer.h"

namespace autarky::cli {
namespace {

struct ChatOptions {
  ModelFlags model;
  SamplingFlags sampling;
  ComplianceFlags compliance;
  std::string system;
  std::int64_t n_predict = -1;
};

void write_out(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

std::size_t common_prefix(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b) {
  std::size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

int run_chat(ChatOptions& o) {
  Model model = Model::load(o.model.model);
  auto tokenizer = text::Tokenizer::from_gguf(model.file());
  const std::string source = model.file().get_string_or("tokenizer.chat_template", "");
  if (source.empty()) fail("{}: no tokenizer.chat_template in the model; chat needs one", o.model.model);
  const ChatTemplate chat_template = ChatTemplate::parse(source);
  ThreadPool pool(o.model.threads);
  Session session(model, pool, context_size(o.model, model.config().n_ctx_train));
  resolve_seed(o.sampling);
  Sampler sampler(o.sampling.params, model.config().n_vocab);
  Compliance compliance = make_compliance(o.compliance);
  if (compliance.watermark) sampler.add_processor(compliance.watermark);

  ChatTemplateOptions topts;
  topts.add_generation_prompt = true;
  if (tokenizer->bos() >= 0) topts.bos_token = tokenizer->token_text(tokenizer->bos());
  if (tokenizer->eos() >= 0) topts.eos_token = tokenizer->token_text(tokenizer->eos());

  GenerateOptions g;
  g.max_tokens = o.n_predict;
  g.stop_strings = o.sampling.stop;
  g.end_tokens.assign(tokenizer->vocab().eog_ids.begin(), tokenizer->vocab().eog_ids.end());
  if (tokenizer->eos() >= 0) g.end_tokens.push_back(tokenizer->eos());

  // -o: the file is one piece of generated content, so its implicit label covers all of it; the
  // replies' notices are already in it, so the file's label adds no second notice.
  compliance::LabelPolicy file_policy = compliance.labeler.policy();
  file_policy.explicit_label = false;
  std::string transcript;  // the labelled replies so far, for -o
  std::size_t replies = 0;
  auto save_transcript = [&] {
    compliance::LabelledResponse whole = compliance.labeler.start(&file_policy);
    whole.begin();
    whole.feed(transcript);
    whole.finish();
    write_labelled_output(o.compliance.output, transcript, whole);
    return whole.produce_id();
  };
  std::string file_produce_id;

  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  if (!o.system.empty()) messages.push_back({{"role", "system"}, {"content", o.system}});
  std::fprintf(stderr, "chat: context %lld tokens; end a line with \\ to continue it; Ctrl-D to quit\n",
               static_cast<long long>(session.n_ctx()));
  std::string line;
  for (;;) {
    write_out("\n> ");
    std::string user;
    bool got_any = false;
    while (std::getline(std::cin, line)) {
      got_any = true;
      if (!line.empty() && line.back() == '\\') {
        user += line.substr(0, line.size() - 1) + "\n";
        continue;
      }
      user += line;
      break;
    }
    if (!got_any) break;
    if (user.empty()) continue;
    messages.push_back({{"role", "user"}, {"content", user}});

    const std::string prompt_text = chat_template.render(messages, topts);
    const std::vector<std::int32_t> all = tokenizer->encode(prompt_text, /*add_special=*/true, /*parse_special=*/true);
    if (static_cast<std::int64_t>(all.size()) >= session.n_ctx()) {
      fail("the conversation has {} tokens, more than the context of {} (-c)", all.size(), session.n_ctx());
    }
    // Keep what the cache already holds; at least one token must be evaluated for fresh logits.
    std::size_t keep = std::min(common_prefix(session.history(), all), all.size() - 1);
    session.truncate(static_cast<std::int64_t>(keep));
    sampler.reset_history();
    for (std::size_t i = 0; i < keep; ++i) sampler.accept(all[i]);
    std::span<const std::int32_t> fresh(all.data() + keep, all.size() - keep);

    text::StreamingDecoder decoder(*tokenizer, /*strip_leading_space=*/true);
    compliance::LabelledResponse label = compliance.labeler.start();
    std::string shown = label.begin();  // the reply as the user sees it, notice included
    write_out(shown);
    std::string reply;
    auto sink = [&](std::string_view t) {
      label.feed(t);
      reply += t;
      write_out(t);
    };
    GenerateResult r = generate(
        session, sampler, fresh, g, [&](std::int32_t id) { return decoder.push(id); }, sink);
    if (r.reason != StopReason::kStopString) sink(decoder.finish());
    const std::string tail = label.finish();
    write_out(tail);
    label.audit("cli", all.size(), r.tokens.size());
    if (!o.compliance.output.empty()) {
      transcript += (replies++ == 0 ? "" : "\n\n") + shown + reply + tail;
      file_produce_id = save_transcript();
    }
    std::fprintf(stderr, "\n[%zu new prompt tokens (%zu reused) %.1f tok/s, %zu generated %.1f tok/s, %s]",
                 fresh.size(), keep, fresh.size() / std::max(r.prompt_seconds, 1e-9), r.tokens.size(),
                 r.tokens.size() / std::max(r.generate_seconds, 1e-9), stop_reason_name(r.reason));
    messages.push_back({{"role", "assistant"}, {"content", reply}});
  }
  write_out("\n");
  if (replies > 0) {
    std::fprintf(stderr, "chat: %zu replies in %s, label in %s (ProduceID %s)\n", replies, o.compliance.output.c_str(),
                 compliance::sidecar_path(o.compliance.output).c_str(), file_produce_id.c_str());
  }
  return 0;
}

const RegisterCommand kChat{"chat", "Interactive chat with the model's chat template", [](CLI::App& app) {
                              auto o = std::make_shared<ChatOptions>();
                              add_model_flags(app, o->model);
                              add_sampling_flags(app, o->sampling);
                              add_compliance_flags(app, o->compliance, /*with_output=*/true);
                              app.add_option("-s,--system", o->system, "System message");
                              app.add_option("-n,--n-predict", o->n_predict, "Max tokens per reply; -1 = no limit");
                              return [o] { return run_chat(*o); };
                            }};

}  // namespace
}  // namespace autarky::cli

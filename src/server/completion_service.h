#pragma once
// What the HTTP routes need from the loaded model, behind one object: its public name, and the
// turning of a validated OpenAiRequest into the Scheduler's request -- the chat template and the
// tokenizer (src/text) make the prompt tokens; generation itself is the Scheduler's
// (src/engine/scheduler.h). Model-dependent validation happens here too (model name, token ids,
// prompt length against a slot's context), giving the same OpenAI errors as the parser.
//
// Models without tokenizer.chat_template get a plain ChatML template (kFallbackChatTemplate),
// whose end-of-turn marker "<|im_end|>" is then also a stop string.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "engine/scheduler.h"
#include "model/model.h"
#include "server/api_error.h"
#include "server/openai_request.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace autarky::server {

extern const char* const kFallbackChatTemplate;

struct PreparedRequest {
  autarky::CompletionRequest engine;  // prompt tokens, sampling, limits, stops
  std::uint64_t seed = 0;             // the one used (the request's or a fresh random one)
  std::string prompt_text;            // what was tokenized (for echo)
};

class CompletionService {
 public:
  // The model, tokenizer and scheduler must outlive the service. model_id: the name clients
  // pass as "model" and GET /v1/models lists.
  CompletionService(std::string model_id, const Model& model, const text::Tokenizer& tokenizer, Scheduler& scheduler);

  const std::string& model_id() const { return model_id_; }
  bool uses_fallback_template() const { return fallback_template_; }
  std::int64_t n_ctx() const { return scheduler_.n_ctx_per_slot(); }
  Scheduler& scheduler() { return scheduler_; }
  const text::Tokenizer& tokenizer() const { return tokenizer_; }

  // Applied to every request's logits (e.g. the compliance watermark); set before serving.
  void add_logit_processor(std::shared_ptr<const LogitProcessor> p) { logit_processors_.push_back(std::move(p)); }

  // Never throws for bad client input: template errors, unknown models, out-of-range token ids
  // and prompts too long for the context come back as ApiError.
  std::variant<PreparedRequest, ApiError> prepare(const OpenAiRequest& request) const;

 private:
  std::variant<std::vector<std::int32_t>, ApiError> prompt_tokens(const OpenAiRequest& request,
                                                                  std::string& prompt_text) const;

  std::string model_id_;
  const text::Tokenizer& tokenizer_;
  Scheduler& scheduler_;
  ChatTemplate chat_template_;
  bool fallback_template_ = false;
  ChatTemplateOptions template_options_;
  std::vector<std::int32_t> end_tokens_;  // EOS and end-of-generation ids
  std::vector<std::shared_ptr<const LogitProcessor>> logit_processors_;
};

}  // namespace autarky::server

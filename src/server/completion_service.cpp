#include "server/completion_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "base/error.h"

namespace autarky::server {

// ChatML, the format most instruction-tuned open models use, for models that ship no template.
const char* const kFallbackChatTemplate =
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

namespace {

constexpr const char* kFallbackEndOfTurn = "<|im_end|>";

std::uint64_t fresh_seed() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

}  // namespace

CompletionService::CompletionService(std::string model_id, const Model& model, const text::Tokenizer& tokenizer,
                                     Scheduler& scheduler)
    : model_id_(std::move(model_id)), tokenizer_(tokenizer), scheduler_(scheduler) {
  std::string source = model.file().get_string_or("tokenizer.chat_template", "");
  if (source.empty()) {
    source = kFallbackChatTemplate;
    fallback_template_ = true;
  }
  chat_template_ = ChatTemplate::parse(source);  // a broken template in the model fails the start
  template_options_.add_generation_prompt = true;
  if (tokenizer.bos() >= 0) template_options_.bos_token = tokenizer.token_text(tokenizer.bos());
  if (tokenizer.eos() >= 0) template_options_.eos_token = tokenizer.token_text(tokenizer.eos());
  end_tokens_.assign(tokenizer.vocab().eog_ids.begin(), tokenizer.vocab().eog_ids.end());
  if (tokenizer.eos() >= 0 && std::find(end_tokens_.begin(), end_tokens_.end(), tokenizer.eos()) == end_tokens_.end()) {
    end_tokens_.push_back(tokenizer.eos());
  }
}

std::variant<std::vector<std::int32_t>, ApiError> CompletionService::prompt_tokens(const OpenAiRequest& request,
                                                                                  std::string& prompt_text) const {
  if (request.route == ApiRoute::kChatCompletions) {
    try {
      prompt_text = chat_template_.render(request.messages, template_options_);
    } catch (const Error& e) {
      // Templates reject conversations they cannot format (e.g. roles that do not alternate).
      return bad_request(fmt::format("the model's chat template refused the messages: {}", e.what()), "messages");
    }
    // Templates that write the BOS text themselves must not get a second BOS from the tokenizer.
    const bool template_has_bos =
        !template_options_.bos_token.empty() && prompt_text.starts_with(template_options_.bos_token);
    return tokenizer_.encode(prompt_text, /*add_special=*/!template_has_bos, /*parse_special=*/true);
  }
  if (request.prompt_is_token_ids) {
    for (std::size_t i = 0; i < request.prompt_token_ids.size(); ++i) {
      if (request.prompt_token_ids[i] >= tokenizer_.n_vocab()) {
        return bad_request(fmt::format("'prompt[{}]' is token id {}, outside the vocabulary of {} tokens", i,
                                       request.prompt_token_ids[i], tokenizer_.n_vocab()),
                           fmt::format("prompt[{}]", i), "invalid_value");
      }
    }
    prompt_text = tokenizer_.decode(request.prompt_token_ids);
    return request.prompt_token_ids;
  }
  prompt_text = request.prompt;
  return tokenizer_.encode(prompt_text, /*add_special=*/true, /*parse_special=*/true);
}

std::variant<PreparedRequest, ApiError> CompletionService::prepare(const OpenAiRequest& request) const {
  if (request.model != model_id_) {
    return ApiError{400, fmt::format("The model '{}' does not exist; this server serves '{}'", request.model, model_id_),
                    "invalid_request_error", "model", "model_not_found", {}};
  }
  PreparedRequest out;
  auto tokens = prompt_tokens(request, out.prompt_text);
  if (auto* error = std::get_if<ApiError>(&tokens)) return *error;
  std::vector<std::int32_t>& prompt = std::get<std::vector<std::int32_t>>(tokens);
  const std::string param = request.route == ApiRoute::kChatCompletions ? "messages" : "prompt";
  if (prompt.empty()) return bad_request("the prompt is empty (no tokens to start from)", param, "invalid_value");
  const std::int64_t n_ctx = scheduler_.n_ctx_per_slot();
  const auto n_prompt = static_cast<std::int64_t>(prompt.size());
  if (n_prompt >= n_ctx) {
    return bad_request(fmt::format("This model's maximum context length is {} tokens, but the prompt has {} tokens, "
                                   "which leaves no room for a completion",
                                   n_ctx, n_prompt),
                       param, "context_length_exceeded");
  }

  autarky::CompletionRequest& e = out.engine;
  e.prompt = std::move(prompt);
  e.sampling = request.sampling;
  out.seed = request.seed.value_or(fresh_seed());
  e.sampling.seed = out.seed;
  // A max_tokens past the context is cut to what fits; the answer then ends with "length".
  e.options.max_tokens = std::min(request.max_tokens.value_or(n_ctx - n_prompt), n_ctx - n_prompt);
  if (!request.ignore_eos) e.options.end_tokens = end_tokens_;
  e.options.stop_strings = request.stop;
  if (fallback_template_ && request.route == ApiRoute::kChatCompletions) {
    e.options.stop_strings.push_back(kFallbackEndOfTurn);
  }
  e.strip_leading_space = request.route == ApiRoute::kChatCompletions;
  e.logit_processors = logit_processors_;
  return out;
}

}  // namespace autarky::server

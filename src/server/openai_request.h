#pragma once
// Parsing and validation of OpenAI completion requests: request body bytes -> a validated
// OpenAiRequest, or the ApiError (status 400 with the offending `param`) to send back.
//
// This is a pure function of its input (no model, no server state), so it can be unit-tested
// and fuzzed on its own (fuzz/openai_request_fuzz.cpp). What needs the model -- is `model` the
// one we serve, does the prompt fit in the context, are token ids in the vocabulary -- is
// checked by the caller after parsing.
//
// Accepted, with OpenAI's meaning: model, messages (text content, string or text parts),
// prompt (string, [string] or [token ids]), max_tokens / max_completion_tokens, temperature,
// top_p, seed, n (1 only), stop (string or up to 4 strings), stream, stream_options.include_usage,
// presence_penalty, frequency_penalty, logprobs / top_logprobs, echo (completions), user.
// Extensions as llama.cpp's server spells them: top_k, min_p, repeat_penalty, ignore_eos.
// Features we do not have (tools, logit_bias, n > 1, json response formats, image parts) are
// refused with a 400 naming the field rather than silently ignored. Other unknown fields are
// ignored, as OpenAI's SDKs may send fields newer than this server.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sampling/sampler.h"
#include "server/api_error.h"

namespace autarky::server {

enum class ApiRoute { kChatCompletions, kCompletions };

struct RequestLimits {
  std::size_t max_nesting = 64;         // JSON depth; deeper bodies are refused before parsing
  std::size_t max_messages = 4096;
  std::size_t max_stop_strings = 4;     // OpenAI's limit
  std::size_t max_stop_bytes = 256;     // per stop string
  std::size_t max_prompt_token_ids = 1u << 20;
  std::int32_t max_top_logprobs_chat = 20;
  std::int32_t max_logprobs_completions = 5;
};

struct OpenAiRequest {
  ApiRoute route = ApiRoute::kChatCompletions;
  std::string model;

  // Chat: [{"role": ..., "content": "..."}, ...] ready for the chat template; text parts of
  // a content array are joined, "developer" is passed as "system".
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();

  // Completions: the prompt as text, or as token ids when given that way.
  std::string prompt;
  std::vector<std::int32_t> prompt_token_ids;
  bool prompt_is_token_ids = false;
  bool echo = false;  // completions: the prompt is repeated in front of the generated text

  std::optional<std::int64_t> max_tokens;  // null: until an end token or the context is full
  // OpenAI defaults (temperature 1, top_p 1, no top-k / min-p) rather than the CLI's, so that
  // a request without sampling fields samples from the model's plain distribution.
  SamplingParams sampling;
  std::optional<std::uint64_t> seed;  // null: the server picks one
  std::vector<std::string> stop;
  bool ignore_eos = false;  // keep generating past end-of-generation tokens (benchmarks)

  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage

  bool logprobs = false;
  std::int32_t top_logprobs = 0;

  std::string user;
};

using ParseResult = std::variant<OpenAiRequest, ApiError>;

// Never throws on any input (malformed JSON, wrong types, absurd values, deep nesting).
ParseResult parse_completion_request(ApiRoute route, std::string_view body, const RequestLimits& limits = {});

// True when the JSON text nests arrays/objects deeper than max_depth (strings are skipped,
// escapes honoured). Used to refuse pathological bodies before building a document from them.
bool json_nesting_exceeds(std::string_view text, std::size_t max_depth);

}  // namespace autarky::server

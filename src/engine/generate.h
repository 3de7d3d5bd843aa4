#pragma once
// The generate loop: prefill the prompt, then sample / decode until max tokens, an
// end-of-generation token, a stop string, or a full context. Text is streamed through a callback
// as soon as it is known not to belong to a stop string.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "engine/session.h"
#include "sampling/sampler.h"

namespace autarky {

struct GenerateOptions {
  std::int64_t max_tokens = -1;                // < 0: until the context is full
  std::vector<std::int32_t> end_tokens;        // EOS / end-of-turn ids: stop without emitting them
  std::vector<std::string> stop_strings;       // stop when the text contains one (not emitted)
};

enum class StopReason { kMaxTokens, kEndToken, kStopString, kContextFull };
const char* stop_reason_name(StopReason r);

struct GenerateResult {
  std::vector<std::int32_t> tokens;  // generated ids (an end token is not included)
  StopReason reason = StopReason::kMaxTokens;
  std::int64_t prompt_tokens = 0;
  double prompt_seconds = 0.0;
  double generate_seconds = 0.0;  // sampling + decoding of the generated tokens
};

// Bytes of a token's text, already UTF-8 safe (a streaming decoder holds back partial
// characters and returns "" until they complete). Null: no text (token ids only).
using TokenTextFn = std::function<std::string(std::int32_t token)>;
using TextSink = std::function<void(std::string_view text)>;

// Evaluates `prompt` (appended to whatever the session already holds; may be empty if the
// session has history) and generates. The last generated token is not evaluated, so the
// session's history ends just before it (a follow-up turn starts with it). The prompt tokens are accepted into the sampler's
// penalty history.
GenerateResult generate(Session& session, Sampler& sampler, std::span<const std::int32_t> prompt,
                        const GenerateOptions& options, const TokenTextFn& token_text, const TextSink& on_text);

}  // namespace autarky

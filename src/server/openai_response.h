#pragma once
// OpenAI response bodies and server-sent-event chunks, as pure functions of what was generated.
// Chat: "chat.completion" / "chat.completion.chunk" with message / delta; completions:
// "text_completion" with text. Streams end with `data: [DONE]`.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/generate.h"
#include "server/openai_request.h"

namespace autarky::server {

struct ResponseMeta {
  ApiRoute route = ApiRoute::kChatCompletions;
  std::string id;            // "chatcmpl-..." / "cmpl-..."
  std::int64_t created = 0;  // Unix seconds
  std::string model;
};

struct Usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  nlohmann::json to_json() const;
};

// "stop" for an end token or a stop string, "length" for max_tokens or a full context.
const char* finish_reason(StopReason reason);

// The whole non-streamed response. logprobs: the choice's logprobs object, or null.
nlohmann::json completion_body(const ResponseMeta& meta, std::string_view text, const char* finish_reason,
                               const Usage& usage, const nlohmann::json& logprobs);

// One streamed chunk. The first chat chunk carries the assistant role; finish_reason is null
// except in the last chunk of the choice. with_usage_field: stream_options.include_usage was
// asked, so every chunk but the last carries "usage": null, as OpenAI's do.
nlohmann::json stream_chunk(const ResponseMeta& meta, std::string_view text, bool first, const char* finish_reason,
                            const nlohmann::json& logprobs, bool with_usage_field);
// The extra last chunk of stream_options.include_usage: no choices, the usage.
nlohmann::json usage_chunk(const ResponseMeta& meta, const Usage& usage);

// One generated position for `logprobs`: the token's text piece (may be part of a UTF-8
// character), its log-probability, and the most likely alternatives.
struct LogprobEntry {
  std::string piece;
  float logprob = 0.0f;
  std::vector<std::pair<std::string, float>> top;
};

// The choice's "logprobs" object for these positions: chat {"content": [{token, logprob, bytes,
// top_logprobs}], "refusal": null}; completions {tokens, token_logprobs, top_logprobs,
// text_offset}, text offsets counted from text_offset_start (bytes of text before entries[0]).
nlohmann::json logprobs_json(ApiRoute route, const std::vector<LogprobEntry>& entries, std::size_t text_offset_start);

// "data: {json}\n\n"; invalid UTF-8 in strings (never expected) is replaced, not thrown on.
std::string sse_event(const nlohmann::json& payload);
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

// Compact JSON text with the same invalid-UTF-8 policy, for plain bodies.
std::string dump_json(const nlohmann::json& value);

}  // namespace autarky::server

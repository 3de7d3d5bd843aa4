#include "server/openai_response.h"

namespace autarky::server {
namespace {

using nlohmann::json;

bool is_chat(const ResponseMeta& meta) { return meta.route == ApiRoute::kChatCompletions; }

json envelope(const ResponseMeta& meta, const char* object) {
  return json{{"id", meta.id}, {"object", object}, {"created", meta.created}, {"model", meta.model},
              {"system_fingerprint", nullptr}};
}

json reason_or_null(const char* reason) { return reason != nullptr ? json(reason) : json(nullptr); }

}  // namespace

json Usage::to_json() const {
  return json{{"prompt_tokens", prompt_tokens},
              {"completion_tokens", completion_tokens},
              {"total_tokens", prompt_tokens + completion_tokens}};
}

const char* finish_reason(StopReason reason) {
  switch (reason) {
    case StopReason::kEndToken:
    case StopReason::kStopString: return "stop";
    case StopReason::kMaxTokens:
    case StopReason::kContextFull: return "length";
  }
  return "stop";
}

json completion_body(const ResponseMeta& meta, std::string_view text, const char* reason, const Usage& usage,
                     const json& logprobs) {
  json body = envelope(meta, is_chat(meta) ? "chat.completion" : "text_completion");
  json choice = {{"index", 0}};
  if (is_chat(meta)) {
    choice["message"] = {{"role", "assistant"}, {"content", std::string(text)}, {"refusal", nullptr}};
  } else {
    choice["text"] = std::string(text);
  }
  choice["logprobs"] = logprobs;
  choice["finish_reason"] = reason_or_null(reason);
  body["choices"] = json::array({std::move(choice)});
  body["usage"] = usage.to_json();
  return body;
}

json stream_chunk(const ResponseMeta& meta, std::string_view text, bool first, const char* reason, const json& logprobs,
                  bool with_usage_field) {
  json chunk = envelope(meta, is_chat(meta) ? "chat.completion.chunk" : "text_completion");
  json choice = {{"index", 0}};
  if (is_chat(meta)) {
    json delta = json::object();
    if (first) delta["role"] = "assistant";
    if (!text.empty() || first) delta["content"] = std::string(text);
    choice["delta"] = std::move(delta);
  } else {
    choice["text"] = std::string(text);
  }
  choice["logprobs"] = logprobs;
  choice["finish_reason"] = reason_or_null(reason);
  chunk["choices"] = json::array({std::move(choice)});
  if (with_usage_field) chunk["usage"] = nullptr;
  return chunk;
}

json usage_chunk(const ResponseMeta& meta, const Usage& usage) {
  json chunk = envelope(meta, is_chat(meta) ? "chat.completion.chunk" : "text_completion");
  chunk["choices"] = json::array();
  chunk["usage"] = usage.to_json();
  return chunk;
}

namespace {

json bytes_of(std::string_view piece) {
  json bytes = json::array();
  for (char c : piece) bytes.push_back(static_cast<unsigned char>(c));
  return bytes;
}

}  // namespace

json logprobs_json(ApiRoute route, const std::vector<LogprobEntry>& entries, std::size_t text_offset_start) {
  if (route == ApiRoute::kChatCompletions) {
    json content = json::array();
    for (const LogprobEntry& e : entries) {
      json top = json::array();
      for (const auto& [piece, lp] : e.top) top.push_back({{"token", piece}, {"logprob", lp}, {"bytes", bytes_of(piece)}});
      content.push_back({{"token", e.piece}, {"logprob", e.logprob}, {"bytes", bytes_of(e.piece)}, {"top_logprobs", top}});
    }
    return json{{"content", std::move(content)}, {"refusal", nullptr}};
  }
  json tokens = json::array(), token_logprobs = json::array(), top_logprobs = json::array(), offsets = json::array();
  std::size_t offset = text_offset_start;
  for (const LogprobEntry& e : entries) {
    tokens.push_back(e.piece);
    token_logprobs.push_back(e.logprob);
    json top = json::object();
    for (const auto& [piece, lp] : e.top) top[piece] = lp;
    top_logprobs.push_back(std::move(top));
    offsets.push_back(offset);
    offset += e.piece.size();
  }
  return json{{"tokens", std::move(tokens)},
              {"token_logprobs", std::move(token_logprobs)},
              {"top_logprobs", std::move(top_logprobs)},
              {"text_offset", std::move(offsets)}};
}

std::string dump_json(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string sse_event(const json& payload) {
  std::string out = "data: ";
  out += dump_json(payload);
  out += "\n\n";
  return out;
}

}  // namespace autarky::server

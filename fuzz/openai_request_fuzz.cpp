// libFuzzer target: arbitrary bytes as the body of POST /v1/chat/completions and /v1/completions.
// The parser must never throw or crash; whatever it accepts must hold only in-range values (what
// the rest of the server relies on), and every refusal must be a 400 in OpenAI's error shape.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/openai_request.h"
#include "server/openai_response.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_accepted(const autarky::server::OpenAiRequest& r) {
  const autarky::SamplingParams& s = r.sampling;
  check(s.temperature >= 0.0f && s.temperature <= 2.0f);
  check(s.top_p > 0.0f && s.top_p <= 1.0f);
  check(s.min_p >= 0.0f && s.min_p <= 1.0f);
  check(s.repeat_penalty > 0.0f && std::isfinite(s.presence_penalty) && std::isfinite(s.frequency_penalty));
  check(!r.max_tokens || *r.max_tokens >= 1);
  check(r.stop.size() <= 4);
  for (const auto& stop : r.stop) check(!stop.empty());
  if (r.route == autarky::server::ApiRoute::kChatCompletions) {
    check(r.messages.is_array() && !r.messages.empty());
    for (const auto& m : r.messages) check(m["role"].is_string() && m["content"].is_string());
    // What the chat template and the response writer will serialise must serialise.
    (void)r.messages.dump();
  } else {
    for (std::int32_t id : r.prompt_token_ids) check(id >= 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the endpoint, so one corpus covers both.
  const auto route = (data[0] & 1) != 0 ? autarky::server::ApiRoute::kCompletions
                                        : autarky::server::ApiRoute::kChatCompletions;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  autarky::server::ParseResult result = autarky::server::parse_completion_request(route, body);
  if (auto* error = std::get_if<autarky::server::ApiError>(&result)) {
    check(error->status == 400 && !error->message.empty());
    (void)autarky::server::dump_json(error->to_json());
  } else {
    check_accepted(std::get<autarky::server::OpenAiRequest>(result));
  }
  return 0;
}

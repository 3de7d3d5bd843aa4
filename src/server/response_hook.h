#pragma once
// The place where other layers annotate completion responses without touching the routes:
// content labels and provenance metadata (compliance) add HTTP headers and top-level JSON fields.
//
//   before_response: called before anything is sent (for a stream, before its first byte), so
//                    only what is known without the text: headers, fields.
//   after_generation: called with the whole generated text once it is known; its fields are
//                    merged into the response body (non-streamed) or the last content chunk
//                    (streamed). Headers set here are only sent for non-streamed responses.
//
// Both may be empty. They run on HTTP worker threads, possibly concurrently.

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/openai_request.h"

namespace autarky::server {

struct ResponseDecoration {
  std::vector<std::pair<std::string, std::string>> headers;
  nlohmann::json fields = nlohmann::json::object();  // merged into the top-level response object
};

struct ResponseHooks {
  std::function<void(const OpenAiRequest& request, ResponseDecoration& out)> before_response;
  std::function<void(const OpenAiRequest& request, std::string_view text, ResponseDecoration& out)> after_generation;
};

}  // namespace autarky::server

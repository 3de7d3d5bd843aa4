#pragma once
// The place where other layers annotate completion responses without touching the routes, e.g.
// content labels and provenance metadata (compliance): text before and after the generated
// content, HTTP headers, and top-level JSON fields.
//
// ResponseHooks::annotate is called once per admitted completion request, with the access grant
// (the API key and its policy), and may return null. Before generation starts, the annotator's
// logit_processors() join the request's sampler (e.g. a watermark chosen per key).
// The returned annotator then sees, in this order, on the request's HTTP thread:
//   begin(early)   before anything is sent (for a stream, before its first byte): headers and
//                  fields known without the text; returns text to put before the content.
//   feed(text)     each piece of generated content as it is sent (not the begin/finish text).
//   finish(late)   after the last generated text: returns text to append to the content; its
//                  fields go into the response body (non-streamed) or the last content chunk
//                  (streamed); its headers only reach non-streamed responses.
//   done(...)      once the request is over and its usage recorded, also after a disconnect
//                  (then finish() may not have been called).
// Annotators of different requests run concurrently.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sampling/sampler.h"
#include "server/access.h"
#include "server/openai_request.h"

namespace autarky::server {

struct ResponseDecoration {
  std::vector<std::pair<std::string, std::string>> headers;
  nlohmann::json fields = nlohmann::json::object();  // merged into the top-level response object
};

class ResponseAnnotator {
 public:
  virtual ~ResponseAnnotator() = default;
  virtual std::vector<std::shared_ptr<const LogitProcessor>> logit_processors() const { return {}; }
  virtual std::string begin(ResponseDecoration& early) = 0;
  virtual void feed(std::string_view text) = 0;
  virtual std::string finish(ResponseDecoration& late) = 0;
  virtual void done(const std::string& key_id, std::int64_t prompt_tokens, std::int64_t completion_tokens) = 0;
};

struct ResponseHooks {
  std::function<std::unique_ptr<ResponseAnnotator>(const OpenAiRequest& request, const AccessGrant& grant)> annotate;
};

}  // namespace autarky::server
